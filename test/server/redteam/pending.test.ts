// Red team: one address opening sockets that never log in. Before the cap it could hold every file
// descriptor of the process (485 idle /ws sockets under `ulimit -n 512` and a real user could no longer
// connect, /healthz timed out). Now the sockets of one address that have not proved a UserSig are capped at
// the upgrade: one more is refused with HTTP 429 and a body naming the limit; sockets that log in or close
// leave the count; the server and everyone else go on.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PENDING_LIMITS, PendingLogins, addressKey, exemptBy } from '../../../src/server/requestBudget';
import { SDK_APP_ID, startServerProcess, until } from '../proc';
import { hubClient, startInProcess, timClient, type TestServer } from '../wire';
import { upgrade, cliRefusal } from './upgrade';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});


describe('sockets not logged in, per address', () => {
  it('over the cap an upgrade is refused (429, the limit named) on every socket path; one that logs in or closes makes room', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 3, exempt: [] } });
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const idle = [await upgrade(`${s.ws}/ws?v=1`), await upgrade(`${s.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`)];
    const alice = await hubClient(s);
    expect(idle.map((u) => u.status)).toEqual([101, 101]);

    for (const path of ['/ws?v=1', `/binfo?sdkappid=${SDK_APP_ID}&platform=7`, `/info?sdkappid=${SDK_APP_ID}&platform=7`]) {
      const refused = await upgrade(`${s.ws}${path}`);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 2996, limit: 3, limitName: 'pendingLogins.perAddress' });
      expect(refused.body.ErrorInfo).toMatch(/too many sockets from 127\.0\.0\.1 that have not logged in: at most 3/);
    }

    // A socket that proves a UserSig is no longer counted: room for one more.
    expect((await alice.login('alice')).ok).toBe(true);
    const fourth = await upgrade(`${s.ws}/ws?v=1`);
    expect(fourth.status).toBe(101);
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(429);

    // A socket that closes is not counted either.
    idle[0]!.ws!.close();
    await until(async () => (await upgrade(`${s!.ws}/info?sdkappid=${SDK_APP_ID}&platform=7`)).status === 101, 'room after a close');

    // The logged-in client and HTTP were never affected.
    expect((await alice.call('setSelfStatus', { customStatus: 'still here' })).ok).toBe(true);
    expect((await s.health()).status).toBe('ok');
    for (const u of [...idle, fourth]) u.ws?.terminate();
  });

  it('a Web SDK that logs in leaves the count too; the default cap exempts loopback (benchmarks, a local balancer)', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 1, exempt: [] } });
    await s.rest('im_open_login_svc/account_import', { UserID: 'bob' });
    const sdk = await timClient(s);
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(429);
    expect((await sdk.login('bob')).body.ErrorCode ?? 0).toBe(0);
    const next = await upgrade(`${s.ws}/ws?v=1`);
    expect(next.status).toBe(101);
    next.ws!.terminate();
    sdk.ws.terminate();

    expect(DEFAULT_PENDING_LIMITS.perAddress).toBeGreaterThan(0);
    const p = new PendingLogins();
    for (let i = 0; i < DEFAULT_PENDING_LIMITS.perAddress + 5; i++) {
      expect(p.check('127.0.0.1')).toBeNull();
      p.track('127.0.0.1', () => false);
    }
    expect(p.size).toBe(0);
  });
});

describe('serve --pending-per-address / --pending-loopback', () => {
  it('set the cap of the real server (loopback counted with --pending-loopback); a bad value is refused at start naming the flag', async () => {
    const proc = await startServerProcess(['--pending-per-address', '1', '--pending-loopback', '--store', 'memory']);
    try {
      const ws = proc.url.replace('http', 'ws');
      const first = await upgrade(`${ws}/ws?v=1`);
      expect(first.status).toBe(101);
      const second = await upgrade(`${ws}/ws?v=1`);
      expect(second).toMatchObject({ status: 429, body: { ErrorCode: 2996, limit: 1, limitName: 'pendingLogins.perAddress' } });
      first.ws!.terminate();
    } finally {
      await proc.stop();
    }
    const { code, err } = await cliRefusal(['serve', '--pending-per-address', '-3']);
    expect(code).toBe(1);
    expect(err).toMatch(/--pending-per-address must be between 0 and 1000000/);
  });
});

describe('PendingLogins (pure)', () => {
  it('counts per address, forgets sockets that logged in or were released, and a cap of 0 counts nothing', () => {
    const p = new PendingLogins({ perAddress: 2, exempt: [] });
    let loggedIn = false;
    const releaseA = p.track('10.0.0.1', () => loggedIn);
    p.track('10.0.0.1', () => false);
    p.track('10.0.0.2', () => false);
    expect(p.check('10.0.0.1')).toMatchObject({ code: 2996, limit: 2, limitName: 'pendingLogins.perAddress', param: 'address' });
    expect(p.check('10.0.0.2')).toBeNull();
    loggedIn = true;
    expect(p.check('10.0.0.1')).toBeNull();
    releaseA(); // its close, after it had left the count: nothing more
    expect(p.size).toBe(2);
    // IPv6: counted per /64 (a host gets a whole /64: single addresses would be no cap).
    const v6 = new PendingLogins({ perAddress: 2, exempt: [] });
    v6.track('2001:db8:1:2::1', () => false);
    v6.track('2001:db8:1:2:aaaa:bbbb:cccc:dddd', () => false);
    expect(v6.check('2001:0db8:0001:0002::ffff')).toMatchObject({ limit: 2 });
    expect(v6.check('2001:db8:1:3::1')).toBeNull();
    expect(v6.check('::ffff:10.0.0.1')).toBeNull();
    expect(addressKey('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('1:2:3:4:5:6:7:8')).toBe('1:2:3:4::/64');
    expect(addressKey('::ffff:10.0.0.1')).toBe('::ffff:10.0.0.1');
    // The default exempts the whole loopback network: the network benchmarks spread 5,000 sockets over 127.0.x.y
    // source addresses (ephemeral ports), which a cap on 127.0.0.1 alone refused with 429.
    const loop = new PendingLogins({ ...DEFAULT_PENDING_LIMITS, perAddress: 1 });
    for (const a of ['127.0.0.1', '127.0.1.2', '127.255.3.4', '::ffff:127.0.2.5', '::1']) {
      loop.track(a, () => false);
      expect(loop.check(a)).toBeNull();
    }
    loop.track('128.0.0.1', () => false);
    expect(loop.check('128.0.0.1')).toMatchObject({ limit: 1 });
    loop.track('::ffff:10.1.1.1', () => false);
    expect(loop.check('::ffff:10.1.1.1')).toMatchObject({ limit: 1 });
    expect(exemptBy('10.0.0.0/8', '10.200.1.1')).toBe(true);
    expect(exemptBy('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(exemptBy('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(exemptBy('10.0.0.0/33', '10.0.0.1')).toBe(false);
    expect(exemptBy('10.0.0.0/8', '2001:db8::1')).toBe(false);
    const off = new PendingLogins({ perAddress: 0, exempt: [] });
    for (let i = 0; i < 10; i++) off.track('10.0.0.1', () => false);
    expect(off.check('10.0.0.1')).toBeNull();
    expect(off.size).toBe(0);
  });
});
