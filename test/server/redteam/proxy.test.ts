// Client addresses behind a load balancer (session 10 left it): without a trust setting every client behind a
// remote balancer has the balancer's address, so the per-address cap on sockets not logged in counts them all
// as one, and the logs and the audit log name the balancer. `--trust-proxy` names the proxies whose
// X-Forwarded-For is read (rightmost address that is not a trusted proxy); from anyone else the header is
// ignored, so a client cannot use it to dodge its cap or to forge its address in the logs.
import { afterEach, describe, expect, it } from 'vitest';
import { TrustedProxies, clientAddress, plainAddress, trustEntryError } from '../../../src/server/clientAddress';
import { SDK_APP_ID, sig, startServerProcess, until } from '../proc';
import { startInProcess, type TestServer } from '../wire';
import { upgrade, cliRefusal } from './upgrade';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});


const xff = (v: string) => ({ 'X-Forwarded-For': v });

/** An admin REST call with these headers; the audit line it left. */
async function audited(t: TestServer, headers: Record<string, string>) {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
  const before = t.lines.length;
  await fetch(`${t.url}/v4/im_open_login_svc/account_import?${q}`, { method: 'POST', headers, body: JSON.stringify({ UserID: 'carol' }) });
  return until(() => t.lines.slice(before).find((l) => l.part === 'audit'), 'the audit line');
}

describe('X-Forwarded-For from an untrusted peer (the default: trust nobody)', () => {
  it('is ignored: the cap counts the peer, whatever the header says; the logs and the audit log name the peer', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 1, exempt: [] } });
    const first = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.1'));
    expect(first.status).toBe(101);
    const spoofed = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.2'));
    expect(spoofed).toMatchObject({ status: 429, body: { limitName: 'pendingLogins.perAddress' } });
    expect(spoofed.body.ErrorInfo).toMatch(/from 127\.0\.0\.1 that/);
    const sdk = await upgrade(`${s.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`, xff('10.0.0.3'));
    expect(sdk.status).toBe(429);
    expect((await audited(s, xff('10.0.0.9'))).ip).toBe('127.0.0.1');
    const connected = s.lines.find((l) => l.msg === 'client connected');
    expect(connected?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    first.ws!.terminate();
  });
});

describe('--trust-proxy', () => {
  it('behind a trusted proxy each client is counted and logged under its own address; a forged leftmost hop changes nothing', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 1, exempt: [] }, trustProxy: ['127.0.0.1', '192.168.0.0/16'] });
    const a = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.1'));
    const b = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.2'));
    const c = await upgrade(`${s.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`, xff('10.0.0.3, 192.168.4.4')); // through two proxies
    expect([a.status, b.status, c.status]).toEqual([101, 101, 101]);
    // 10.0.0.1 again, with a forged hop in front: the proxy appended the real one on the right.
    const again = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.77, 10.0.0.1'));
    expect(again).toMatchObject({ status: 429, body: { limitName: 'pendingLogins.perAddress' } });
    expect(again.body.ErrorInfo).toMatch(/from 10\.0\.0\.1 that/);
    expect((await upgrade(`${s.ws}/info?sdkappid=${SDK_APP_ID}&platform=7`, xff('10.0.0.3'))).status).toBe(429);
    // The proxy's own sockets (no header) are its own address's.
    const own = await upgrade(`${s.ws}/ws?v=1`);
    expect(own.status).toBe(101);
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(429);

    const connected = s.lines.filter((l) => l.msg === 'client connected').map((l) => l.remote as string);
    expect(connected[0]).toMatch(/^10\.0\.0\.1 \(via 127\.0\.0\.1:\d+\)$/);
    expect(connected[1]).toMatch(/^10\.0\.0\.2 \(via /);
    expect((await audited(s, xff('203.0.113.9'))).ip).toBe('203.0.113.9');
    expect((await audited(s, {})).ip).toBe('127.0.0.1');
    for (const u of [a, b, c, own]) u.ws?.terminate();
  });

  it('a peer that is not in the list is not believed, even with trust set', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 1, exempt: [] }, trustProxy: ['10.10.10.10'] });
    const first = await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.1'));
    expect(first.status).toBe(101);
    expect((await upgrade(`${s.ws}/ws?v=1`, xff('10.0.0.2'))).status).toBe(429);
    expect((await audited(s, xff('10.0.0.9'))).ip).toBe('127.0.0.1');
    first.ws!.terminate();
  });
});

describe('clientAddress (pure)', () => {
  const trust = new TrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
  it('takes the rightmost hop no trusted proxy is, only from a trusted peer', () => {
    expect(clientAddress('203.0.113.5', '1.2.3.4', trust)).toBe('203.0.113.5');
    expect(clientAddress('10.1.1.1', '1.2.3.4', trust)).toBe('1.2.3.4');
    expect(clientAddress('10.1.1.1', '6.6.6.6, 1.2.3.4, 10.2.2.2', trust)).toBe('1.2.3.4');
    expect(clientAddress('::ffff:10.1.1.1', ['6.6.6.6', '1.2.3.4'], trust)).toBe('1.2.3.4'); // two headers, IPv4-mapped peer
    expect(clientAddress('fd00::1', '2001:db8::7', trust)).toBe('2001:db8::7');
    expect(clientAddress('10.1.1.1', '[2001:db8::8]:443', trust)).toBe('2001:db8::8');
    expect(clientAddress('10.1.1.1', '1.2.3.4:5678', trust)).toBe('1.2.3.4');
    // Every hop trusted: the leftmost; a hop that is not an address: the proxy before it.
    expect(clientAddress('10.1.1.1', '10.3.3.3, 10.2.2.2', trust)).toBe('10.3.3.3');
    expect(clientAddress('10.1.1.1', 'unknown, 10.2.2.2', trust)).toBe('10.2.2.2');
    expect(clientAddress('10.1.1.1', '<script>', trust)).toBe('10.1.1.1');
    expect(clientAddress('10.1.1.1', undefined, trust)).toBe('10.1.1.1');
    // At most 16 trusted hops are walked, however long the header.
    const long = Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8 & 255}.${i & 255}`).join(',');
    expect(clientAddress('10.1.1.1', `1.2.3.4,${long}`, trust)).toMatch(/^10\./);
    // Nobody trusted: the header is never read.
    expect(clientAddress('10.1.1.1', '1.2.3.4', new TrustedProxies())).toBe('10.1.1.1');
  });

  it('parses addresses, CIDRs and named ranges; refuses the rest', () => {
    expect(new TrustedProxies(['loopback']).trusts('127.9.9.9')).toBe(true);
    expect(new TrustedProxies(['loopback']).trusts('::1')).toBe(true);
    expect(new TrustedProxies(['private']).trusts('172.20.0.1')).toBe(true);
    expect(new TrustedProxies(['private']).trusts('8.8.8.8')).toBe(false);
    expect(plainAddress(' ::FFFF:1.2.3.4 ')).toBe('1.2.3.4');
    expect(plainAddress('nope')).toBeNull();
    expect(trustEntryError('10.0.0.0/8')).toBeNull();
    expect(trustEntryError('10.0.0.0/33')).toMatch(/prefix length outside 0-32/);
    expect(trustEntryError('example.com')).toMatch(/not an address, a CIDR/);
    expect(() => new TrustedProxies(['10.0.0.0/x'])).toThrow(/trust-proxy/);
  });
});

describe('serve --trust-proxy', () => {
  it('the real executable reads the header from the named proxy; a bad entry is refused at start naming the flag', async () => {
    const proc = await startServerProcess(['--trust-proxy', 'loopback', '--pending-per-address', '1', '--pending-loopback', '--store', 'memory']);
    try {
      const ws = proc.url.replace('http', 'ws');
      const a = await upgrade(`${ws}/ws?v=1`, xff('198.51.100.1'));
      const b = await upgrade(`${ws}/ws?v=1`, xff('198.51.100.2'));
      expect([a.status, b.status]).toEqual([101, 101]);
      expect((await upgrade(`${ws}/ws?v=1`, xff('198.51.100.1'))).body.ErrorInfo).toMatch(/from 198\.51\.100\.1 that/);
      a.ws!.terminate();
      b.ws!.terminate();
    } finally {
      await proc.stop();
    }
    const { code, err } = await cliRefusal(['serve', '--trust-proxy', '10.0.0.0/8,proxy.example']);
    expect(code).toBe(1);
    expect(err).toMatch(/--trust-proxy 'proxy\.example' is not an address, a CIDR/);
  });
});
