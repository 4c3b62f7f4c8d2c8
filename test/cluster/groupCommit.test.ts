// The writer's answers to every way an append can fail: not sent (nothing changed, go on), in doubt (read
// the head, then say whether it landed), refused (fenced or another writer: stop for good).
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterError, ClusterErrorCode } from '../../src/cluster/errors';
import { ShardWriter, type Resolution } from '../../src/cluster/groupCommit';
import { createMemoryCluster, MemoryStore } from '../../src/cluster/memory';
import type { ClusterBackend, Fence, ShardLog } from '../../src/cluster/types';

type Fault = 'unavailable' | 'lost-before' | 'lost-after' | undefined;

/** The memory log with one injected fault per append: not sent, or sent and the reply lost before or
 * after Redis applied it. */
function faulty(log: ShardLog) {
  const faults: Fault[] = [];
  let down = false;
  const wrapped: ShardLog = {
    ...log,
    open: (s, e) => (down ? Promise.reject(new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'down')) : log.open(s, e)),
    async append(shard, fence, after, batchId, commands) {
      const f = faults.shift();
      if (f === 'unavailable') throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'not sent');
      if (f === 'lost-before') throw new ClusterError(ClusterErrorCode.OUTCOME_UNKNOWN, 'lost');
      const head = await log.append(shard, fence, after, batchId, commands);
      if (f === 'lost-after') throw new ClusterError(ClusterErrorCode.OUTCOME_UNKNOWN, 'lost');
      return head;
    },
  };
  return { wrapped, faults, setDown: (v: boolean) => (down = v) };
}

describe('shard writer (group commit)', () => {
  let b: ClusterBackend;
  let fence: Fence;
  let queued: Array<() => void>;
  const flush = () => queued.splice(0).forEach((f) => f());
  const settle = () => new Promise((r) => setImmediate(r));
  beforeEach(async () => {
    b = createMemoryCluster(new MemoryStore(), { clock: new SimulatedClock(), leaseTtlMs: 1_000, heartbeatTtlMs: 1_000 });
    const r = await b.lease.acquire(0, 'a');
    if (!r.ok) throw new Error('lease');
    fence = { token: r.grant.token, epoch: (await b.log.open(0, 'E')).epoch };
    queued = [];
  });
  const writer = (log: ShardLog, extra: Partial<ConstructorParameters<typeof ShardWriter>[0]> = {}) =>
    new ShardWriter({ shard: 0, log, fence, head: 0, schedule: (f) => queued.push(f), ...extra });
  const outcome = (p: Promise<number>) => p.then((o) => o, (e: ClusterError) => e.code);

  it('splits a large turn into batches of maxBatch, in order', async () => {
    const w = writer(b.log, { maxBatch: 4 });
    const all = Array.from({ length: 10 }, (_, i) => w.append(`c${i}`));
    flush();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(w.batches).toBe(3);
  });

  it('not sent (Redis down): the calls fail with STORE_UNAVAILABLE, nothing changed, the next call goes on', async () => {
    const f = faulty(b.log);
    const w = writer(f.wrapped);
    f.faults.push('unavailable');
    const failed = [w.append('x'), w.append('y')].map(outcome);
    flush();
    expect(await Promise.all(failed)).toEqual([ClusterErrorCode.STORE_UNAVAILABLE, ClusterErrorCode.STORE_UNAVAILABLE]);
    expect(w.state).toBe('open');
    const ok = w.append('z');
    flush();
    expect(await ok).toBe(1);
    expect((await b.log.load(0))!.entries).toEqual([{ offset: 1, command: 'z' }]);
  });

  it('in doubt and it landed: OUTCOME_UNKNOWN, then the head is read, the landing reported, and writing goes on', async () => {
    const f = faulty(b.log);
    const resolved: Resolution[] = [];
    const w = writer(f.wrapped, { onResolved: (r) => resolved.push(r), newBatchId: (() => { let n = 0; return () => `b${++n}`; })() });
    f.faults.push('lost-after');
    const lost = outcome(w.append('x'));
    flush();
    expect(await lost).toBe(ClusterErrorCode.OUTCOME_UNKNOWN);
    expect(w.state).toBe('in-doubt');
    const next = w.append('y');
    flush();
    expect(await next).toBe(2);
    expect(resolved).toEqual([{ batchId: 'b1', commands: ['x'], landed: true, first: 1 }]);
    expect((await b.log.load(0))!.entries.map((e) => e.command)).toEqual(['x', 'y']); // x once, not twice
  });

  it('in doubt and it did not land: reported as not landed, the next call takes its offset', async () => {
    const f = faulty(b.log);
    const resolved: Resolution[] = [];
    const w = writer(f.wrapped, { onResolved: (r) => resolved.push(r) });
    f.faults.push('lost-before');
    const lost = outcome(w.append('x'));
    flush();
    expect(await lost).toBe(ClusterErrorCode.OUTCOME_UNKNOWN);
    expect(await w.resync()).toBe(true);
    expect(resolved.map((r) => r.landed)).toEqual([false]);
    const next = w.append('y');
    flush();
    expect(await next).toBe(1);
  });

  it('in doubt while Redis is still down: new calls fail STORE_UNAVAILABLE until the head can be read', async () => {
    const f = faulty(b.log);
    const w = writer(f.wrapped);
    f.faults.push('lost-after');
    const lost = outcome(w.append('x'));
    flush();
    await lost;
    f.setDown(true);
    const refused = outcome(w.append('y'));
    flush();
    expect(await refused).toBe(ClusterErrorCode.STORE_UNAVAILABLE);
    expect(w.state).toBe('in-doubt');
    f.setDown(false);
    const ok = w.append('z');
    flush();
    expect(await ok).toBe(2);
  });

  it('fenced: the batch and everything queued fail FENCED, and the writer stops for good', async () => {
    const stops: number[] = [];
    const w = writer(b.log, { onStopped: (e) => stops.push(e.code) });
    await b.lease.release({ shard: 0, node: 'a', token: fence.token, expiresAt: 0 });
    await b.lease.acquire(0, 'b');
    const failed = [w.append('x'), w.append('y')].map(outcome);
    flush();
    expect(await Promise.all(failed)).toEqual([ClusterErrorCode.FENCED, ClusterErrorCode.FENCED]);
    expect(w.state).toBe('stopped');
    expect(stops).toEqual([ClusterErrorCode.FENCED]);
    expect(await outcome(w.append('z'))).toBe(ClusterErrorCode.FENCED);
    await settle();
    expect(queued).toEqual([]);
    expect((await b.log.load(0))!.entries).toEqual([]);
  });
});
