// The remote client's reconnect schedule after the server goes away: the first retry at once, then
// min x 2^n (capped) cut by jitter, every delay on the injected clock; then it resumes by itself. The server
// runs in this process (startServer) so that the test can stop it and take its port.
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { RemoteClient } from '../../src/client/remote';
import { EVENT } from '../../src/index';
import { startServer, type RunningServer } from '../../src/server/server';
import { SECRET, SDK_APP_ID, sig, until } from './proc';

const logger = pino({ level: 'silent' });
const toClose: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of toClose.reverse()) await c();
});

const start = (port = 0) =>
  startServer({ port, clock: 'system', sdkAppId: SDK_APP_ID, secretKey: SECRET, logger, settings: { switches: { userStatus: true } } });

/** Something on the port that takes connections and drops them at once, counting them. */
async function refuser(port: number): Promise<{ server: Server; count(): number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, count: () => n };
}

describe('reconnect backoff', () => {
  it('DEV-1 after the server goes, retries come at once, then at min x 2^n less jitter, on the client clock; then it resumes by itself', async () => {
    let server: RunningServer = await start();
    const port = server.port;
    server.core.registerUsers(['alice']);
    const clock = new SimulatedClock();
    const c = new RemoteClient({ url: server.url, clock, random: () => 0.5, reconnect: { minDelayMs: 1000, maxDelayMs: 3000, jitter: 0.5 } });
    toClose.push(() => c.destroy());
    const states: string[] = [];
    c.on(EVENT.NET_STATE_CHANGE, (e) => states.push((e.data as { state: string }).state));
    await c.login({ userID: 'alice', userSig: sig('alice') });
    await c.setSelfStatus({ customStatus: 'before' });

    await server.close();
    const stand = await refuser(port);
    // The first retry goes at once (and fails: the server is gone); each later one waits on the client clock.
    const waits: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const due = await until(() => c.nextRetryAt, `retry ${n} scheduled`);
      const wait = due - clock.now();
      waits.push(wait);
      clock.increment(wait - 1);
      expect(stand.count()).toBe(n - 1);
      clock.increment(1);
      await until(() => stand.count() === n, `retry ${n}`);
    }
    // min x 2^n, capped at max, less jitter x random: 1000, 2000, 3000 (cap) x 0.75.
    expect(waits).toEqual([750, 1500, 2250]);
    expect(states).toEqual(['connected', 'reconnecting']);

    // The server comes back on its port: the next retry resumes the session.
    await new Promise<void>((r) => stand.server.close(() => r()));
    server = await start(port);
    server.core.registerUsers(['alice']);
    toClose.push(() => server.close());
    const due = await until(() => c.nextRetryAt, 'retry 4 scheduled');
    clock.increment(due - clock.now());
    await until(() => states.at(-1) === 'connected', 'the client back and resumed');
    expect((await c.setSelfStatus({ customStatus: 'after' })).data).toMatchObject({ userID: 'alice', statusType: 1, customStatus: 'after' });
  });
});
