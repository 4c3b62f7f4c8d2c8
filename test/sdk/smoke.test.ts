import { afterEach, describe, expect, it } from 'vitest';
import { createSdk, loginReady, startTestServer, type SdkDevice, type TestServer } from './harness';

let server: TestServer;
const devices: SdkDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.destroy();
  await server?.close();
});

describe('smoke', () => {
  it('logs in and sets status', async () => {
    server = await startTestServer();
    const a = createSdk(server.url);
    devices.push(a);
    await loginReady(a, 'alice');
    const r = await a.tim.setSelfStatus({ customStatus: 'hi' });
    expect(r.data).toEqual({ userID: 'alice', statusType: 1, customStatus: 'hi' });
    await a.waitFor('onUserStatusUpdated', (d) => d[0].customStatus === 'hi');
    expect((await server.engine.queryStatus(['alice']))[0]).toMatchObject({ statusType: 1, customStatus: 'hi' });
  });
});
