// The shared socket-link lifecycle (src/server/link/*) on a fake socket and a manual clock: the login
// deadline whatever the socket sends, quiet detection and its retry, the per-socket and global send
// budgets (issue 9 #4: a non-reading client is cut early, by terminate, so its buffers go at once), guarded
// callbacks, the retrier's backoff, the bounds on parsed frames, and the last-resort verdicts.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { ManualClock } from '../../src/server/clock';
import { EXIT_UNSAFE, installLastResort, verdict } from '../../src/server/lastResort';
import { OutboundBudget } from '../../src/server/link/budget';
import { MAX_NESTING_DEPTH, frameBoundsError, isEchoableSeq, nestingOver } from '../../src/server/link/bounds';
import { LinkGroup, type LinkHooks } from '../../src/server/link/lifecycle';
import { Retrier } from '../../src/server/link/retry';

class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<string | Buffer> = [];
  closedWith: { code: number; reason: string } | null = null;
  terminated = false;
  send(data: string | Buffer) {
    this.sent.push(data);
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate() {
    this.terminated = true;
    this.finish(1006);
  }
  /** The socket's 'close' event, as ws emits it once the socket is gone. */
  finish(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', code, Buffer.alloc(0));
  }
}

const CODES = { loginDeadline: 4003, replaced: 4001, shutdown: 1001 };

function setup(o: { quietMs?: number; loginDeadlineMs?: number; maxBufferedBytes?: number; budget?: OutboundBudget } = {}) {
  const clock = new ManualClock(0);
  const lines: Array<{ level: string; obj: any; msg?: string }> = [];
  const log = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (obj: unknown, msg?: string) => void lines.push({ level, obj, msg })])) as any;
  const group = new LinkGroup({ clock, log, quietMs: o.quietMs ?? 0, loginDeadlineMs: o.loginDeadlineMs ?? 0, maxBufferedBytes: o.maxBufferedBytes, budget: o.budget, codes: CODES });
  const open = (hooks: Partial<LinkHooks> = {}) => {
    const ws = new FakeSocket();
    const calls = { frames: 0, quiet: 0, closes: [] as number[] };
    const link = group.open(ws as unknown as WebSocket, 'test', {
      onFrame: () => void calls.frames++,
      isAuthenticated: () => false,
      onClose: (code) => void calls.closes.push(code),
      ...hooks,
    });
    return { ws, link, calls };
  };
  return { clock, group, open, lines };
}

describe('login deadline (issue 9 #5)', () => {
  it('a socket that never logs in is closed at the deadline, however often it speaks', () => {
    const { clock, open } = setup({ loginDeadlineMs: 30_000 });
    const { ws, calls } = open();
    for (let t = 0; t < 29; t++) {
      ws.emit('message', Buffer.from('ping'), false);
      clock.advance(1000);
    }
    expect(ws.closedWith).toBeNull();
    expect(calls.frames).toBe(29);
    clock.advance(1000);
    expect(ws.closedWith).toEqual({ code: 4003, reason: 'no login in time' });
    ws.finish(4003);
    expect(calls.closes).toEqual([4003]);
  });

  it('a logged-in socket is spared; after it logs out it must log in again within one more deadline', () => {
    const { clock, open } = setup({ loginDeadlineMs: 30_000 });
    let authenticated = true;
    const { ws } = open({ isAuthenticated: () => authenticated });
    clock.advance(90_000);
    expect(ws.closedWith).toBeNull();
    authenticated = false;
    clock.advance(30_000);
    expect(ws.closedWith?.code).toBe(4003);
  });
});

describe('quiet detection', () => {
  it('onQuiet once after quietMs without a frame; a frame starts the wait again', () => {
    const { clock, open } = setup({ quietMs: 10_000 });
    const quiet = vi.fn();
    const { ws } = open({ onQuiet: quiet });
    clock.advance(9_000);
    ws.emit('message', Buffer.from('x'), false);
    clock.advance(9_000);
    expect(quiet).not.toHaveBeenCalled();
    clock.advance(1_000);
    expect(quiet).toHaveBeenCalledTimes(1);
    clock.advance(60_000);
    expect(quiet).toHaveBeenCalledTimes(1);
    ws.emit('message', Buffer.from('x'), false);
    clock.advance(10_000);
    expect(quiet).toHaveBeenCalledTimes(2);
  });

  it('an onQuiet the store refuses is retried with backoff until it lands, and not once the socket speaks', () => {
    const { clock, open, group } = setup({ quietMs: 10_000 });
    let refuse = 3;
    const tried: number[] = [];
    const { ws } = open({
      onQuiet: () => {
        tried.push(clock.now());
        if (refuse-- > 0) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      },
    });
    clock.advance(10_000 + 500 + 1000 + 2000);
    expect(tried).toEqual([10_000, 10_500, 11_500, 13_500]); // 500, 1000, 2000 ms apart
    expect(group.retry.size).toBe(0);
    // A frame while a retry waits: the socket is not quiet any more, nothing is owed.
    refuse = 1;
    ws.emit('message', Buffer.from('x'), false);
    clock.advance(10_000);
    expect(group.retry.size).toBe(1);
    ws.emit('message', Buffer.from('x'), false);
    expect(group.retry.size).toBe(0);
  });
});

describe('send budgets (issue 9 #4)', () => {
  it('a socket past its own cap is terminated (not closed: a non-reader never reads a close frame) and hears nothing more', () => {
    const { open } = setup({ maxBufferedBytes: 1000 });
    const { ws, link, calls } = open();
    expect(link.send(() => 'a', false)).toBe(true);
    ws.bufferedAmount = 1001;
    expect(link.send(() => 'b', false)).toBe(false);
    expect(ws.terminated).toBe(true);
    expect(ws.sent).toEqual(['a']);
    expect(calls.closes).toEqual([1006]);
  });

  it('over the global budget, the largest queues are cut until the total fits', () => {
    const budget = new OutboundBudget(100);
    const { open } = setup({ budget });
    const a = open();
    const b = open();
    const c = open();
    for (const [x, n] of [
      [a, 30],
      [b, 50],
      [c, 10],
    ] as const) {
      x.ws.bufferedAmount = n;
      x.link.send(() => 'x', false);
    }
    expect(budget.total).toBe(90);
    c.ws.bufferedAmount = 40; // 120 > 100: b (the largest) goes
    c.link.send(() => 'x', false);
    expect([a.ws.terminated, b.ws.terminated, c.ws.terminated]).toEqual([false, true, false]);
    expect(budget.total).toBe(70);
    expect(budget.cuts).toBe(1);
  });

  it('the budget measures afresh before cutting: queues that drained since their last send count as drained', () => {
    const budget = new OutboundBudget(100);
    const { open } = setup({ budget });
    const a = open();
    const b = open();
    a.ws.bufferedAmount = 90;
    a.link.send(() => 'x', false);
    a.ws.bufferedAmount = 0; // drained, no send since
    b.ws.bufferedAmount = 50;
    b.link.send(() => 'x', false);
    expect(a.ws.terminated || b.ws.terminated).toBe(false);
    expect(budget.total).toBe(50);
  });

  it('a reply that cannot be encoded is dropped and logged; the socket lives on', () => {
    const { open, lines } = setup();
    const { ws, link } = open();
    const deep: unknown[] = [];
    let v = deep;
    for (let i = 0; i < 20_000; i++) v = (v[0] = []) as unknown[];
    expect(link.send(() => JSON.stringify({ seq: deep }), false)).toBe(false);
    expect(lines.some((l) => l.level === 'error' && /could not be encoded/.test(l.msg ?? ''))).toBe(true);
    expect(link.send(() => 'ok', false)).toBe(true);
    expect(ws.sent).toEqual(['ok']);
  });
});

describe('guarded callbacks and shutdown', () => {
  it('what onFrame and onClose throw is logged, never thrown into the socket', () => {
    const { open, lines } = setup();
    const { ws } = open({
      onFrame: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
      onClose: () => {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      },
    });
    expect(() => ws.emit('message', Buffer.from('x'), false)).not.toThrow();
    expect(() => ws.finish()).not.toThrow();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['frame handling failed', 'socket close failed']);
  });

  it('replaced() closes with the replaced code; shutdown closes every socket with the shutdown code', async () => {
    const { open, group } = setup();
    const a = open();
    const b = open();
    a.link.replaced();
    expect(a.ws.closedWith?.code).toBe(4001);
    const done = group.shutdown(1000);
    expect(b.ws.closedWith?.code).toBe(1001);
    a.ws.finish();
    b.ws.finish();
    await done;
    expect(group.size).toBe(0);
  });
});

describe('Retrier', () => {
  it('doubles its delay up to the cap; a cancel stops it; close drops what is owed', () => {
    const clock = new ManualClock(0);
    const log = { info() {}, warn() {}, error() {} };
    const r = new Retrier({ clock, log, baseDelayMs: 100, maxDelayMs: 400 });
    const at: number[] = [];
    expect(
      r.run('k', 'test', () => {
        at.push(clock.now());
        throw new Error('no');
      }),
    ).toBe(false);
    clock.advance(100 + 200 + 400 + 400);
    expect(at).toEqual([0, 100, 300, 700, 1100]);
    r.cancel('k');
    clock.advance(10_000);
    expect(at).toHaveLength(5);
    r.run('j', 'test', () => {
      throw new Error('no');
    });
    r.close();
    expect(r.size).toBe(0);
  });
});

describe('bounds on parsed frames (issue 9 #1)', () => {
  it('nesting is measured without recursion and stops at the limit', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(nestingOver(deep)).toBe(MAX_NESTING_DEPTH + 1);
    expect(nestingOver({ head: { seq: 1 }, body: { To_Account: ['a'] } })).toBeNull();
    expect(nestingOver(JSON.parse('['.repeat(MAX_NESTING_DEPTH) + ']'.repeat(MAX_NESTING_DEPTH)))).toBeNull();
    expect(frameBoundsError(deep)).toMatchObject({ limit: MAX_NESTING_DEPTH, limitName: 'maxNestingDepth' });
  });

  it('a seq a reply may echo is a finite number or a string of at most 64 characters', () => {
    for (const ok of [0, 7, -1, 1.5, '', 'abc', 'x'.repeat(64)]) expect(isEchoableSeq(ok)).toBe(true);
    for (const bad of [[], {}, null, true, Number.NaN, Number.POSITIVE_INFINITY, 'x'.repeat(65), [[1]]]) expect(isEchoableSeq(bad)).toBe(false);
  });
});

describe('last resort (uncaughtException / unhandledRejection)', () => {
  it('keeps serving after a stray error; exits on an unsound store, out of memory, or a storm', () => {
    expect(verdict(new TypeError('x is undefined'), 'uncaughtException', 1)).toBe('serve');
    expect(verdict(Object.assign(new Error('full'), { code: 'SQLITE_FULL' }), 'uncaughtException', 1)).toBe('serve');
    expect(verdict(new Error('rejected'), 'unhandledRejection', 50)).toBe('serve');
    expect(verdict(Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' }), 'uncaughtException', 1)).toBe('exit');
    expect(verdict(Object.assign(new Error('io'), { code: 'SQLITE_IOERR_WRITE' }), 'unhandledRejection', 1)).toBe('exit');
    expect(verdict(Object.assign(new Error('closed'), { code: 'ERR_STORE_CLOSED' }), 'uncaughtException', 1)).toBe('exit');
    expect(verdict(new RangeError('Array buffer allocation failed'), 'uncaughtException', 1)).toBe('exit');
    expect(verdict(new TypeError('again'), 'uncaughtException', 11)).toBe('exit');
  });

  it('serving: logs and goes on; exiting: closes the server (the store keeps what was acknowledged), then exits 70', async () => {
    const proc = new EventEmitter();
    const logged: string[] = [];
    const log = { error: (_: unknown, m?: string) => void logged.push(`error ${m}`), fatal: (_: unknown, m?: string) => void logged.push(`fatal ${m}`) };
    let closed = 0;
    const exits: number[] = [];
    const uninstall = installLastResort({ log, proc, shutdown: async () => void closed++, exit: (c) => void exits.push(c) });
    proc.emit('uncaughtException', new TypeError('stray'));
    expect(closed).toBe(0);
    proc.emit('uncaughtException', Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' }));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(1);
    expect(exits).toEqual([EXIT_UNSAFE]);
    expect(logged[0]).toMatch(/^error uncaughtException: logged; the server keeps serving/);
    expect(logged[1]).toMatch(/^fatal uncaughtException: not safe to go on/);
    uninstall();
    expect(proc.listenerCount('uncaughtException')).toBe(0);
  });
});
