// The shared socket link's per-turn batching (src/server/link/lifecycle.ts) on real sockets: the frames one
// turn sends a socket leave in one write, in the order they were sent, at the end of the turn (not later);
// the per-socket and global send caps still count every byte of the turn, so a slow reader is cut at the
// same bound as without batching.
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ManualClock } from '../../src/server/clock';
import { OutboundBudget } from '../../src/server/link/budget';
import { HOLD_MAX_BYTES, LinkGroup, type SocketLink } from '../../src/server/link/lifecycle';
import { until } from './proc';

const CODES = { loginDeadline: 4003, replaced: 4001, shutdown: 1001 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let wss: WebSocketServer | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
});

/** A LinkGroup over a real ws server; each connection's link, with a count of the TCP socket's writes. */
async function rig(o: { maxBufferedBytes?: number; budget?: OutboundBudget } = {}) {
  const group = new LinkGroup({ clock: new ManualClock(0), log: quiet, quietMs: 0, loginDeadlineMs: 0, codes: CODES, ...o });
  const w = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss = w;
  await new Promise((r) => w.once('listening', r));
  const server: Array<{ link: SocketLink; writes: () => number }> = [];
  w.on('connection', (ws) => {
    // Every write the TCP socket hands to the kernel goes through _write (one chunk) or _writev (several).
    const tcp = (ws as unknown as { _socket: Record<string, (...a: unknown[]) => unknown> })._socket;
    let writes = 0;
    for (const m of ['_write', '_writev'] as const) {
      const orig = tcp[m]!.bind(tcp);
      tcp[m] = (...a: unknown[]) => (writes++, orig(...a));
    }
    server.push({ link: group.open(ws, 'test', { onFrame() {}, isAuthenticated: () => true, onClose() {} }), writes: () => writes });
  });
  const url = `ws://127.0.0.1:${(w.address() as AddressInfo).port}`;
  const connect = async () => {
    const c = new WebSocket(url, { perMessageDeflate: false });
    clients.push(c);
    const got: string[] = [];
    c.on('message', (d) => got.push(String(d)));
    await new Promise((r) => c.once('open', r));
    await until(() => server.length === clients.length, 'the server to see the socket');
    return { c, got, side: server.at(-1)! };
  };
  return { group, connect };
}

it('one turn of frames to a socket leaves in one write, in order, as soon as the turn ends', async () => {
  const { connect } = await rig();
  const a = await connect();
  const b = await connect();
  const before = [a.side.writes(), b.side.writes()];
  // One turn: frames to a and b interleaved, as a fan-out and its reply would send them.
  for (let i = 0; i < 50; i++) {
    expect(a.side.link.send(() => `a${i}`, false)).toBe(true);
    if (i % 5 === 0) expect(b.side.link.send(() => `b${i}`, false)).toBe(true);
  }
  expect([a.side.writes(), b.side.writes()]).toEqual(before); // held until the turn's end
  await Promise.resolve(); // the turn's microtasks: no timer, no later turn
  expect(a.side.writes() - before[0]!).toBe(1);
  expect(b.side.writes() - before[1]!).toBe(1);
  await until(() => a.got.length === 50 && b.got.length === 10, 'every frame to arrive');
  expect(a.got).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
  expect(b.got).toEqual(Array.from({ length: 10 }, (_, i) => `b${i * 5}`));
  // The next turn's frames are a write of their own, after the first turn's.
  a.side.link.send(() => 'later', false);
  await Promise.resolve();
  expect(a.side.writes() - before[0]!).toBe(2);
  await until(() => a.got.at(-1) === 'later', 'the next turn');
  expect(a.got).toHaveLength(51);
});

it('a reader that stops reading is cut at its cap; a turn holds at most HOLD_MAX_BYTES on top of the backlog', async () => {
  const max = 64 * 1024;
  const { connect } = await rig({ maxBufferedBytes: max });
  const a = await connect();
  const tcp = (a.c as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  tcp.pause(); // stops reading: the kernel's buffers fill, then the queue
  const closed = new Promise<number>((r) => a.c.once('close', (code) => r(code)));
  const frame = 'x'.repeat(10 * 1024);
  let most = 0;
  let sends = 0;
  // Turns of 5 frames each, until the cap cuts it (the kernel's buffers take a few MiB first).
  for (let turn = 0; turn < 10_000 && !a.side.link.closing; turn++) {
    for (let k = 0; k < 5; k++) {
      if (!a.side.link.send(() => frame, false)) break;
      sends++;
      most = Math.max(most, a.side.link.ws.bufferedAmount);
    }
    await Promise.resolve();
  }
  expect(a.side.link.closing).toBe(true);
  expect(sends).toBeGreaterThan(10);
  // What the socket held never went past its cap, one turn's hold and one frame (and their headers).
  expect(most).toBeGreaterThan(max);
  expect(most).toBeLessThanOrEqual(max + HOLD_MAX_BYTES + 2 * (frame.length + 16));
  tcp.resume(); // reads again, and finds the socket reset
  expect(await closed).toBe(1006); // terminated: its queue is dropped with it
});

it('the global budget sees a turn\'s held frames: over it, the largest queue is cut', async () => {
  const budget = new OutboundBudget(10 * 1024);
  const { connect } = await rig({ budget, maxBufferedBytes: 1 << 20 });
  const a = await connect();
  const b = await connect();
  const frame = 'y'.repeat(3 * 1024);
  for (let i = 0; i < 3; i++) expect(a.side.link.send(() => frame, false)).toBe(true);
  expect(b.side.link.send(() => 'small', false)).toBe(true);
  expect(budget.cuts).toBe(0);
  // a holds 9 KiB of this turn (under HOLD_MAX_BYTES: not written yet); one more frame takes the total over 10 KiB.
  expect(a.side.link.send(() => frame, false)).toBe(true);
  expect(a.side.link.closing).toBe(true);
  expect(b.side.link.closing).toBe(false);
  expect(budget.cuts).toBe(1);
  await until(() => b.got.length === 1, 'the other socket to get its frame');
});
