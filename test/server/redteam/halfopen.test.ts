// Red team: a logged-in socket whose peer vanished without a FIN (a half-open TCP connection: a phone that
// lost its network, a NAT that forgot the flow) never speaks again and never closes. The engine times the
// device out (no ghost), but the Web SDK gateway kept the socket for ever: its login deadline counted any
// socket holding a device key as logged in, so every vanished SDK leaked a file descriptor and its buffers
// (one still open after an hour of silence). The /ws hub cut such a socket already. Now both do.
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../proc';
import { hubClient, presence, startInProcess, timClient, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const turn = () => new Promise((r) => setImmediate(r));

describe('a logged-in socket that goes silent for ever', () => {
  it('is offline after its timeout and its socket is released, on /ws and on the Web SDK gateway', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
    const sdk = await timClient(s);
    expect((await sdk.login('alice')).body.ErrorCode ?? 0).toBe(0);
    const ws = await hubClient(s);
    expect((await ws.login('bob')).ok).toBe(true);
    // Neither speaks again; simulated time runs on for ten minutes.
    for (let i = 0; i < 60; i++) {
      s.clock.advance(10_000);
      await turn();
    }
    expect(await presence(s, 'alice')).toBe('Offline');
    expect(await presence(s, 'bob')).toBe('Offline');
    await until(() => ws.isClosed(), 'the /ws socket released', 3000);
    await until(() => sdk.isClosed(), 'the Web SDK socket released', 3000);
    const h = await s.health();
    expect([h.connections, h.sdkConnections]).toEqual([0, 0]);
  });

  it('an SDK that is only quiet (it speaks before its device times out) keeps its socket and its device', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const sdk = await timClient(s);
    expect((await sdk.login('alice')).body.ErrorCode ?? 0).toBe(0);
    for (let i = 0; i < 60; i++) {
      s.clock.advance(10_000);
      await turn();
      // The SDK's wshello every HelloInterval (30 s).
      if (i % 3 === 2) expect((await sdk.request('heartbeat.alive')).head.servcmd).toBe('heartbeat.alive');
    }
    expect(sdk.isClosed()).toBe(false);
    expect(await presence(s, 'alice')).toBe('Online');
    sdk.ws.close();
  });
});
