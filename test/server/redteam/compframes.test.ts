// Red team: the Web SDK gateway's cap on a frame before login (maxPreLoginFrameBytes, 64 KiB) was measured
// on the bytes received, and a `COMP` frame (gzip behind 4 bytes) was inflated up to 1 MiB whoever sent it:
// a 1.1 KB frame from a socket that never logged in became 1 MiB of JSON to parse, 16 times the cap, about
// 2.6 ms of CPU each against 0.25 ms for a COMP frame inflating to 1 KB (.tmp/red3/compbomb.ts: 1,600 such
// frames from 8 sockets, 4.4 s of CPU against 0.4 s). Now the cap holds for what a frame inflates to: over it before
// login, the socket is closed (1009) naming the limit, as for a plain frame over it; after login the larger
// bound holds, compressed or not. Session 17's red team: a COMP frame of 70 bytes could still inflate to the
// whole 64 KiB (deflate reaches ~1,000 on repetitive text): a compressed frame now inflates to at most
// MAX_INFLATE_RATIO (32) times its own size. The caps below are tested with padding that does not compress
// (random base64), so that each cap, not the ratio, is what is reached.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SDK_APP_ID, sig } from '../proc';
import { rawSocket, startInProcess, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const comp = (frame: unknown) => Buffer.concat([Buffer.from('COMP'), gzipSync(JSON.stringify(frame))]);
const frame = (servcmd: string, seq: number, body: unknown, head: Record<string, unknown> = {}) => ({ head: { ver: 'v4', platform: 7, servcmd, seq, ...head }, body });
/** `n` characters that deflate hardly shrinks (base64 of random bytes: about 4/3 of their size). */
const noise = (n: number) => randomBytes(Math.ceil((n * 3) / 4)).toString('base64').slice(0, n);
const binfo = (t: TestServer) => rawSocket(`${t.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`);

describe('COMP frames on the Web SDK gateway', () => {
  it('before login, one that inflates past maxPreLoginFrameBytes closes the socket (1009) naming the limit, unread', async () => {
    s = await startInProcess();
    const anon = await binfo(s);
    // 100 KiB inflated from ~23 KiB: past the 64 KiB cap, within the ratio.
    const bomb = comp(frame('heartbeat.alive', 1, { pad: noise(30 * 1024) + 'a'.repeat(70 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    anon.ws.send(bomb, { binary: true });
    // Closed, or (the defect) read and answered: whichever comes first.
    const closed = await Promise.race([anon.closed, anon.next().then((f) => ({ code: 0, reason: `answered: ${JSON.stringify(f).slice(0, 100)}` }))]);
    expect(closed.code).toBe(1009);
    expect(closed.reason).toContain('maxPreLoginFrameBytes (65536 bytes)');
    expect(anon.frames).toEqual([]); // nothing was read: no answer
    expect(s.lines.some((l) => l.level === 40 && l.limitName === 'maxPreLoginFrameBytes')).toBe(true);
  });

  it('before login, one within the cap is read; after login one past the pre-login cap (100 KiB inflated) is read too', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const c = await binfo(s);
    // A login sent compressed, with 60 KiB of padding: within the cap once inflated.
    c.ws.send(comp(frame('im_open_status.wslogin', 1, { State: 'Online', pad: noise(60 * 1024) }, { identifier: 'alice', usersig: sig('alice') })), { binary: true });
    const login = await c.next((f) => f.head?.seq === 1);
    expect(login.body.ErrorCode ?? 0).toBe(0);
    c.ws.send(comp(frame('heartbeat.alive', 2, { pad: noise(100 * 1024) })), { binary: true });
    expect((await c.next((f) => f.head?.seq === 2)).head.servcmd).toBe('heartbeat.alive');
    expect(c.isClosed()).toBe(false);
    c.ws.close();
  });

  it('one that inflates past 32 times its own size (maxInflateRatio) closes the socket (1009) naming the ratio, unread', async () => {
    s = await startInProcess();
    const anon = await binfo(s);
    const bomb = comp(frame('heartbeat.alive', 1, { pad: 'a'.repeat(20 * 1024) })); // ~100 bytes, 20 KiB inflated
    expect(bomb.length * 32).toBeLessThan(20 * 1024);
    anon.ws.send(bomb, { binary: true });
    const closed = await Promise.race([anon.closed, anon.next().then((f) => ({ code: 0, reason: `answered: ${JSON.stringify(f).slice(0, 100)}` }))]);
    expect(closed.code).toBe(1009);
    expect(closed.reason).toContain('maxInflateRatio');
    expect(anon.frames).toEqual([]);
    expect(s.lines.some((l) => l.level === 40 && l.limitName === 'maxInflateRatio')).toBe(true);
  });
});
