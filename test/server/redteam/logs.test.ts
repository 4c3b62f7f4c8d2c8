// Red team: what an unauthenticated socket can make the server write to its log. The Web SDK gateway drops a
// frame it cannot answer (not JSON, no head, nested too deep) and logged a warning for each: a socket at its
// request budget (100 at once, 20 a second), times the sockets one address may open, was thousands of lines a
// second from nobody in particular. Now the first per socket is a warning and the rest are debug lines.
import { afterEach, describe, expect, it } from 'vitest';
import { startInProcess, timClient, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('log lines an unauthenticated socket can cause', () => {
  it('Web SDK frames dropped unanswered: one warning per socket, the rest at debug, counted', async () => {
    s = await startInProcess();
    const sdk = await timClient(s, '/info');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    for (let i = 0; i < 30; i++) sdk.ws.send('not json');
    for (let i = 0; i < 30; i++) sdk.ws.send(JSON.stringify({ head: { servcmd: 'x', seq: 1 }, body: { deep } }));
    // A request after them is answered: every frame before it was read.
    expect((await sdk.request('heartbeat.alive')).head.servcmd).toBe('heartbeat.alive');
    const dropped = s.lines.filter((l) => /tim gateway: (bad frame|frame out of bounds) dropped/.test(l.msg));
    expect(dropped).toHaveLength(60);
    expect(dropped.filter((l) => l.level >= 40)).toHaveLength(1);
    expect(dropped.at(-1)).toMatchObject({ level: 20, dropped: 60, limitName: 'maxNestingDepth' });
    sdk.ws.close();
  });
});
