// The remote client in an app's process must not crash on what a server sends: frames of unknown shape are
// dropped, an error of no known shape rejects the call with a code.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RemoteClient } from '../../src/client/remote';
import { ErrorCode } from '../../src/index';

let wss: WebSocketServer | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = null;
});

async function fakeServer(answer: (req: { id: number }) => string[]): Promise<string> {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss!.once('listening', r));
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ t: 'hello', v: 1, deviceId: 'x', seq: 0, heartbeatMs: 60_000, serverTime: Date.now(), sdkAppId: 1 }));
    ws.on('message', (data) => {
      const req = JSON.parse(data.toString()) as { id: number };
      for (const f of answer(req)) ws.send(f);
    });
  });
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
}

describe('the remote client and a server that sends garbage', () => {
  it('drops frames of unknown shape and rejects a call whose error has no known shape', async () => {
    const url = await fakeServer((req) => [
      'null',
      '[]',
      '{"t":"push","seq":1,"event":null}',
      '{"t":"push","seq":2,"event":{"name":"onUserStatusUpdated","data":"nope"}}',
      '{"t":"res"}',
      JSON.stringify({ t: 'res', id: req.id, ok: false, error: null, seq: 3 }),
    ]);
    const c = new RemoteClient({ url, reconnect: false });
    const heard: unknown[] = [];
    c.on('onUserStatusUpdated', (e) => heard.push(e));
    try {
      await expect(c.login({ userID: 'a', userSig: 'x' })).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
      expect(heard).toEqual([]); // none of the pushes had a shape to trust
    } finally {
      await c.destroy();
    }
  });
});
