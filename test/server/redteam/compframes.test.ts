// Red team: the Web SDK gateway's cap on a frame before login (maxPreLoginFrameBytes, 64 KiB) was measured
// on the bytes received, and a `COMP` frame (gzip behind 4 bytes) was inflated up to 1 MiB whoever sent it:
// a 1.1 KB frame from a socket that never logged in became 1 MiB of JSON to parse, 16 times the cap, about
// 2.6 ms of CPU each against 0.25 ms for a COMP frame inflating to 1 KB (.tmp/red3/compbomb.ts: 1,600 such
// frames from 8 sockets, 4.4 s of CPU against 0.4 s). Now the cap holds for what a frame inflates to: over it before
// login, the socket is closed (1009) naming the limit, as for a plain frame over it; after login the larger
// bound holds, compressed or not.
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
const binfo = (t: TestServer) => rawSocket(`${t.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`);

describe('COMP frames on the Web SDK gateway', () => {
  it('before login, one that inflates past maxPreLoginFrameBytes closes the socket (1009) naming the limit, unread', async () => {
    s = await startInProcess();
    const anon = await binfo(s);
    const bomb = comp(frame('heartbeat.alive', 1, { pad: 'a'.repeat(1024 * 1024 - 200) }));
    expect(bomb.length).toBeLessThan(2048);
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
    c.ws.send(comp(frame('im_open_status.wslogin', 1, { State: 'Online', pad: 'p'.repeat(60 * 1024) }, { identifier: 'alice', usersig: sig('alice') })), { binary: true });
    const login = await c.next((f) => f.head?.seq === 1);
    expect(login.body.ErrorCode ?? 0).toBe(0);
    c.ws.send(comp(frame('heartbeat.alive', 2, { pad: 'b'.repeat(100 * 1024) })), { binary: true });
    expect((await c.next((f) => f.head?.seq === 2)).head.servcmd).toBe('heartbeat.alive');
    expect(c.isClosed()).toBe(false);
    c.ws.close();
  });
});
