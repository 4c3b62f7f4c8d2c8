// NTF-6 / EXT-2 at the remote client: a push that arrives before the login's reply is held. In cluster mode a
// login's own status change is delivered and its reply sent once the command is durable, in either order; when
// the push came first, the reply's "fresh login: start from nothing" used to forget it, so the next resume did
// not name it, the server handed it again and the app heard the same version twice (the chaos smoke's
// duplicates of v1 after a takeover). A fake server on 127.0.0.1 port 0 sends the push first.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { RemoteClient } from '../../src/client/remote';
import { EVENT } from '../../src/index';
import type { UserStatus } from '../../src/records';
import { until } from '../server/proc';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const v1: UserStatus = { userID: 'alice', statusType: 1, customStatus: '', version: 1, reason: 'login' as UserStatus['reason'] };

describe('remote client: a push before the login reply (fake server)', () => {
  it('NTF-6 EXT-2: the resume after a drop names the version the push brought', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    closers.push(() => new Promise((r) => wss.close(r)));
    await new Promise((r) => wss.once('listening', r));
    const resumes: unknown[] = [];
    const sockets: WebSocket[] = [];
    wss.on('connection', (ws) => {
      sockets.push(ws);
      ws.send(JSON.stringify({ t: 'hello', v: 1, deviceId: 'dev-00000001', seq: 0, heartbeatMs: 60_000, serverTime: Date.now(), sdkAppId: 1 }));
      ws.on('message', (raw) => {
        const f = JSON.parse(String(raw)) as { id: number; op: string; params?: { versions?: unknown } };
        const reply = (data: unknown) => ws.send(JSON.stringify({ t: 'res', id: f.id, ok: true, data, seq: 1 }));
        if (f.op === 'login') {
          ws.send(JSON.stringify({ t: 'push', seq: 1, event: { name: EVENT.USER_STATUS_UPDATED, data: [v1] } })); // the push first
          reply({ repeatLogin: false, userID: 'alice', status: v1 });
        } else if (f.op === 'resume') {
          resumes.push(f.params?.versions);
          reply({ status: v1 });
        } else reply({});
      });
    });
    const { port } = wss.address() as { port: number };
    const c = new RemoteClient({ url: `ws://127.0.0.1:${port}`, platform: 'web', reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    closers.push(() => c.destroy());
    const heard: number[] = [];
    c.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...(e.data as UserStatus[]).map((s) => s.version)));
    await c.login({ userID: 'alice', userSig: 'sig' });
    expect(heard).toEqual([1]);
    sockets[0]!.terminate(); // the socket drops: the client resumes on a new one
    await until(() => resumes.length > 0, 'the resume');
    expect(resumes[0]).toEqual({ alice: 1 });
  });
});
