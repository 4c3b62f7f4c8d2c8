// The inspection link of `serve --inspect` (src/server/inspect.ts) in process, on a simulated clock: it queues
// nothing while the relay is down, starts each connection with the current actors, survives garbage from
// the relay, and reconnects on the clock.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine } from '../../src/index';
import { createInspectLink, type InspectLink } from '../../src/server/inspect';
import { until } from '../server/proc';

type Ev = { type: string; sessionId: string; snapshot?: { value?: unknown } };
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function relay(port = 0) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got: Ev[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Ev));
  });
  cleanup.push(() => new Promise((r) => {
    for (const s of wss.clients) s.terminate();
    wss.close(r);
  }));
  return { wss, got, sockets, port: (wss.address() as AddressInfo).port };
}

describe('the inspection link', () => {
  it('queues nothing while the relay is down; the first connection starts with the current actors', async () => {
    // A port that was free a moment ago: nothing listens there yet.
    const probe = await relay();
    const port = probe.port;
    await new Promise((r) => probe.wss.close(r));
    const clock = new SimulatedClock();
    const link: InspectLink = createInspectLink({ url: `ws://127.0.0.1:${port}`, clock, logger: pino({ level: 'silent' }) });
    cleanup.push(() => link.close());
    const engine = createEngine({ clock, inspect: link.inspect });
    await engine.registerUsers(['alice']);
    const c = createClient({ engine });
    await c.login({ userID: 'alice' });
    await c.setSelfStatus({ customStatus: 'while you were away' });
    await until(() => link.stats().waiting, 'the failed first connection');
    expect(link.stats()).toMatchObject({ connected: false, sent: 0 });
    expect(link.stats().dropped).toBeGreaterThan(0);

    const up = await relay(port);
    clock.increment(1000); // the reconnect timer reads the clock
    await until(() => up.got.some((e) => e.sessionId === 'userStatus:alice'), 'the current actors');
    const first = up.got[0]!;
    expect(first.type).toBe('@xstate.actor');
    const alice = up.got.find((e) => e.sessionId === 'userStatus:alice')!;
    expect([alice.type, alice.snapshot?.value]).toEqual(['@xstate.actor', 'online']);
    // Nothing of what happened while it was down is replayed as events: only the actors as they are now.
    expect(up.got.some((e) => e.type === '@xstate.event' && e.sessionId === 'userStatus:alice')).toBe(false);

    // Garbage from the relay is ignored; a live step still goes out.
    for (const s of up.sockets) s.send('not json'), s.send(Buffer.from([1, 2, 3]), { binary: true }), s.send('{"type":5}');
    await c.setSelfStatus({ customStatus: 'back' });
    await until(() => up.got.some((e) => e.type === '@xstate.event' && e.sessionId === 'userStatus:alice'), 'a live step');
    expect(link.stats().connected).toBe(true);
    await engine.close();
  });
});

describe('status-engine/inspect (the embedded engine)', () => {
  it('an embedded engine serves a viewer that joins late the current actors, with no logger or clock given', async () => {
    const up = await relay();
    const { createInspectLink: publicLink } = await import('../../src/inspect');
    const link = publicLink({ url: `ws://127.0.0.1:${up.port}` });
    cleanup.push(() => link.close());
    const engine = createEngine({ inspect: link.inspect, inspectUsers: ['alice'] });
    await engine.registerUsers(['alice', 'bob']);
    const alice = createClient({ engine });
    await alice.login({ userID: 'alice' });
    await until(() => link.stats().connected, 'the relay connection');
    const before = up.got.length;
    // A viewer opens the inspector now and says hello through the relay: the actors come again, as they are.
    for (const s of up.sockets) s.send(JSON.stringify({ type: '@statelyai.connected' }));
    await until(() => up.got.slice(before).some((e) => e.type === '@xstate.actor' && e.sessionId === 'userStatus:alice'), 'the current actors');
    const late = up.got.slice(before).filter((e) => e.type === '@xstate.actor');
    expect(late.find((e) => e.sessionId === 'userStatus:alice')?.snapshot?.value).toBe('online');
    expect(up.got.some((e) => e.sessionId.includes('bob'))).toBe(false);
    await engine.close();
  });
});
