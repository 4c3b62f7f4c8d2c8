// The remote client and a server that cuts it for its request budget (close 1008, session 10's "our own
// remote client reconnects after a 1008"): it came straight back (the first retry is at once, and a reconnect
// that got in reset the schedule), so a client whose app loops was cut and back in a loop. Now a reconnect after
// a policy close waits at least 5 s (the budget's refill), doubling with each close in ten minutes, jittered,
// capped; after the fifth it stops and says so with an 'error' event. A fake server on 127.0.0.1 speaks the
// client protocol and cuts on the test's word; the client's clock is simulated (no sleeps).
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { PolicyCuts } from '../../src/client/backoff';
import { RemoteClient } from '../../src/client/remote';
import { EVENT } from '../../src/events';
import { ManualClock } from '../../src/server/clock';
import { until } from '../server/proc';

/** Speaks just enough of docs/protocol.md: hello, then every request answered ok; `cut()` closes the newest socket 1008. */
async function fakeServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const sockets: WebSocket[] = [];
  const ops: string[] = [];
  const status = (userID: string) => ({ userID, statusType: 'ONLINE', customStatus: '', version: 1, reason: 'login' });
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.send(JSON.stringify({ t: 'hello', v: 1, deviceId: 'd', seq: 0, heartbeatMs: 60_000, serverTime: 0, sdkAppId: 1 }));
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { id: number; op: string; params?: { userID?: string } };
      ops.push(f.op);
      const data = f.op === 'login' ? { repeatLogin: false, userID: f.params!.userID, status: status(f.params!.userID!) } : f.op === 'resume' ? { status: status('alice') } : {};
      ws.send(JSON.stringify({ t: 'res', id: f.id, ok: true, data, seq: 0 }));
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sockets,
    ops,
    cut: () => sockets[sockets.length - 1]!.close(1008, 'request budget exceeded 100 times'),
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.terminate();
      wss.close(() => r());
    }),
  };
}

let srv: Awaited<ReturnType<typeof fakeServer>> | null = null;
let client: RemoteClient | null = null;
afterEach(async () => {
  await client?.destroy();
  await srv?.close();
  client = null;
  srv = null;
});

describe('remote client after a policy close (1008)', () => {
  it('waits longer each time (5, 10, 20, 40 s on its clock), resumes each time, then after the fifth stops with an error event', async () => {
    srv = await fakeServer();
    const clock = new ManualClock(1_000_000);
    // random 0: the jitter takes nothing off, so the waits are exact.
    client = new RemoteClient({ url: srv.url, clock, random: () => 0 });
    const errors: Array<{ code: number; message: string }> = [];
    const states: string[] = [];
    client.on(EVENT.ERROR, (e) => errors.push(e.data as { code: number; message: string }));
    client.on(EVENT.NET_STATE_CHANGE, (e) => states.push((e.data as { state: string }).state));
    await client.login({ userID: 'alice', userSig: 'sig' });
    expect(client.connectionState).toBe('connected');

    for (const wait of [5000, 10_000, 20_000, 40_000]) {
      const sockets = srv.sockets.length;
      srv.cut();
      await until(() => client!.nextRetryAt !== null, 'the reconnect scheduled');
      expect(client.connectionState).toBe('reconnecting');
      expect(client.nextRetryAt! - clock.now()).toBe(wait);
      clock.advance(wait - 1);
      expect(srv.sockets.length).toBe(sockets); // not yet: the timer has not fired, no socket was opened
      clock.advance(1);
      await until(() => client!.connectionState === 'connected', 'back in after the wait');
      expect(srv.sockets.length).toBe(sockets + 1);
      expect(srv.ops[srv.ops.length - 1]).toBe('resume');
    }

    srv.cut();
    await until(() => errors.length > 0, 'the error event');
    expect(errors).toEqual([{ code: 2996, message: expect.stringMatching(/closed this connection 5 times within 600 s for its request budget \(1008\); the client stopped reconnecting/) }]);
    expect(client.connectionState).toBe('idle');
    expect(client.nextRetryAt).toBeNull();
    expect(states[states.length - 1]).toBe('disconnected');
    // Nothing is left to fire: however long the clock runs, no socket goes up by itself.
    expect(clock.pending).toBe(0);
    const sockets = srv.sockets.length;
    clock.advance(3_600_000);
    expect(srv.sockets.length).toBe(sockets);

    // The app may come back on purpose: reconnect() resumes.
    await client.reconnect();
    expect(client.connectionState).toBe('connected');
    expect(srv.ops[srv.ops.length - 1]).toBe('resume');
  });

  it('a close that is not a policy close is retried at once, as before', async () => {
    srv = await fakeServer();
    const clock = new ManualClock(0);
    client = new RemoteClient({ url: srv.url, clock, random: () => 0 });
    await client.login({ userID: 'alice', userSig: 'sig' });
    srv.sockets[0]!.close(1012, 'restart');
    await until(() => srv!.sockets.length === 2 && client!.connectionState === 'connected', 'back at once');
    expect(clock.now()).toBe(0);
  });
});

describe('PolicyCuts (pure)', () => {
  it('doubles from policyDelayMs up to its cap, jittered down by up to half; forgets closes older than the window; a reset forgets all', () => {
    const clock = new ManualClock(0);
    let r = 1;
    const cuts = new PolicyCuts(clock, () => r, { policyDelayMs: 1000, policyMaxDelayMs: 3000, maxPolicyCloses: 4, policyWindowMs: 60_000 });
    expect(cuts.record()).toEqual({ stop: false, delayMs: 500 }); // 1000 x (1 - 0.5 x 1)
    r = 0;
    expect(cuts.record()).toEqual({ stop: false, delayMs: 2000 });
    expect(cuts.record()).toEqual({ stop: false, delayMs: 3000 }); // capped
    clock.advance(59_999);
    expect(cuts.record()).toMatchObject({ stop: true, cuts: 4, windowMs: 60_000, message: expect.stringMatching(/4 times within 60 s/) });
    clock.advance(1); // the first three are 60 s old now
    expect(cuts.record()).toEqual({ stop: false, delayMs: 2000 }); // the one at 59,999 and this one
    cuts.reset();
    expect(cuts.record()).toEqual({ stop: false, delayMs: 1000 });
    // However many closes, the record stays small.
    for (let i = 0; i < 10_000; i++) cuts.record();
    expect((cuts as unknown as { at: number[] }).at.length).toBeLessThanOrEqual(4);
  });
});
