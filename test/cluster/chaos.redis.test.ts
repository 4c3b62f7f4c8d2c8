// Chaos with the real redis-server: kill -9 under load and restart (with appendfsync always, no
// acknowledged append is lost, none is applied twice, nothing half-written, and the node carries on by
// itself), and a frozen Redis (SIGSTOP) whose in-doubt batch the writer resolves from the log.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterErrorCode } from '../../src/cluster/errors';
import { ClusterNode } from '../../src/cluster/node';
import { createRedisCluster, type RedisClusterBackend } from '../../src/cluster/redis/backend';
import { RedisServer } from './redis';

const turn = () => new Promise((r) => setImmediate(r));

describe('chaos: real redis-server', () => {
  let server: RedisServer;
  let backend: RedisClusterBackend | undefined;
  beforeEach(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
    await server.stop();
  });

  it('kill -9 under load, then restart: acknowledged appends all there, none twice, the node goes on by itself', async () => {
    const clock = new SimulatedClock();
    backend = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 60_000, heartbeatTtlMs: 60_000, commandTimeoutMs: 2_000 });
    const node = new ClusterNode({ id: 'n1', backend, clock, shards: 4, autoTick: false });
    await node.start();
    expect(node.view().shards).toEqual([0, 1, 2, 3]);

    const outcome = new Map<string, number | { code: number }>();
    const pending: Promise<void>[] = [];
    let n = 0;
    const burst = () => {
      for (let i = 0; i < 8; i++) {
        const shard = i % 4;
        const cmd = `s${shard}-c${n++}`;
        const p = node.shard(shard)!.writer.append(cmd).then(
          (offset) => void outcome.set(cmd, offset),
          (e: { code: number }) => void outcome.set(cmd, { code: e.code }),
        );
        pending.push(p);
      }
    };
    const acked = () => [...outcome.values()].filter((o) => typeof o === 'number').length;
    while (acked() < 200) {
      burst();
      await turn();
    }
    const killed = server.kill(); // while batches are in flight
    for (let t = 0; t < 20; t++) {
      burst();
      await turn();
    }
    await killed;
    for (let t = 0; t < 5; t++) {
      burst(); // while Redis is down: refused at once
      await turn();
    }
    await Promise.all(pending);
    const codes = [...outcome.values()].filter((o) => typeof o !== 'number').map((o) => (o as { code: number }).code);
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toSatisfy((s: Set<number>) => [...s].every((c) => c === ClusterErrorCode.STORE_UNAVAILABLE || c === ClusterErrorCode.OUTCOME_UNKNOWN));
    await node.tick(); // a round without Redis must not throw
    expect(node.lastError).toBeDefined();

    const restartedAt = n;
    await server.restart();
    await backend.whenReady(); // ioredis reconnected on its own
    await node.tick();
    expect(node.lastError).toBeUndefined();
    for (let t = 0; t < 5; t++) {
      burst();
      await turn();
    }
    await Promise.all(pending);

    let ackedAfter = 0;
    for (let shard = 0; shard < 4; shard++) {
      expect(node.shard(shard)!.writer.state).toBe('open'); // not fenced, not a lost epoch: nothing corrupted
      const log = (await backend.log.load(shard))!;
      const commands = log.entries.map((e) => e.command);
      expect(new Set(commands).size).toBe(commands.length); // nothing applied twice
      expect(log.entries.map((e) => e.offset)).toEqual(log.entries.map((_, i) => i + 1)); // no gap
      for (const e of log.entries) {
        const o = outcome.get(e.command);
        // In the log: acknowledged at this offset, or in doubt; never a call told 'not written'.
        if (typeof o === 'number') expect(o).toBe(e.offset);
        else expect(o).toEqual({ code: ClusterErrorCode.OUTCOME_UNKNOWN });
      }
      for (const [cmd, o] of outcome) {
        if (typeof o === 'number' && cmd.startsWith(`s${shard}-`)) {
          expect(log.entries[o - 1]?.command).toBe(cmd); // every acknowledged append survived kill -9
          if (Number(cmd.slice(cmd.indexOf('-c') + 2)) >= restartedAt) ackedAfter += 1;
        }
      }
    }
    expect(ackedAfter).toBe(40); // every call after the restart was acknowledged
    await node.stop();
  });

  it('Redis frozen (SIGSTOP) mid-append: the call is in doubt; after SIGCONT the log says it landed, and it is not written again', async () => {
    const clock = new SimulatedClock();
    backend = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 60_000, heartbeatTtlMs: 60_000, commandTimeoutMs: 300 });
    const node = new ClusterNode({ id: 'n1', backend, clock, shards: 1, autoTick: false, onResolved: (_s, r) => resolved.push(r.landed) });
    const resolved: boolean[] = [];
    await node.start();
    const w = node.shard(0)!.writer;
    expect(await w.append('before')).toBe(1);
    server.pause();
    const inDoubt = w.append('frozen').then(() => 0, (e: { code: number }) => e.code);
    expect(await inDoubt).toBe(ClusterErrorCode.OUTCOME_UNKNOWN);
    server.resume();
    expect(await w.resync()).toBe(true);
    expect(resolved).toEqual([true]);
    expect(await w.append('after')).toBe(3);
    expect((await backend.log.load(0))!.entries.map((e) => e.command)).toEqual(['before', 'frozen', 'after']);
    await node.stop();
  });

  it('Redis down for longer than the lease: the node drops its shards, and takes them back with a new token when Redis returns', async () => {
    const clock = new SimulatedClock();
    backend = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 3_000, heartbeatTtlMs: 3_000 });
    const lost: string[] = [];
    const node = new ClusterNode({ id: 'n1', backend, clock, shards: 2, autoTick: false, onLost: (s, why) => lost.push(`${s}:${why}`) });
    await node.start();
    const token = node.shard(0)!.grant.token;
    expect(await node.shard(0)!.writer.append('kept')).toBe(1);
    await server.kill();
    clock.increment(1_000);
    await node.tick(); // cannot renew: keeps what has not run out
    expect(node.view().shards).toEqual([0, 1]);
    clock.increment(2_000);
    await node.tick();
    expect(node.view().shards).toEqual([]); // run out on its clock: it stops writing
    expect(lost).toEqual(['0:expired', '1:expired']);
    await server.restart();
    await backend.whenReady();
    await node.tick();
    expect(node.view().shards).toEqual([0, 1]);
    const again = node.shard(0)!;
    expect(again.grant.token).toBeGreaterThan(token);
    expect(again.state.entries).toEqual([{ offset: 1, command: 'kept' }]);
    expect(await again.writer.append('next')).toBe(2);
    await node.stop();
  });

  it('a batch torn in the AOF (a crash while Redis wrote it) is dropped whole on restart: never half a batch', async () => {
    const clock = new SimulatedClock();
    backend = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 60_000, heartbeatTtlMs: 60_000 });
    const r = await backend.lease.acquire(0, 'n1');
    if (!r.ok) throw new Error('lease');
    const fence = { token: r.grant.token, epoch: (await backend.log.open(0, 'E')).epoch };
    await backend.log.append(0, fence, 0, 'A', ['a1', 'a2']);
    const dir = join(server.dir, 'appendonlydir');
    const incr = join(dir, readdirSync(dir).find((f) => f.endsWith('.incr.aof'))!);
    const before = statSync(incr).size;
    await backend.log.append(0, fence, 2, 'B', ['b1', 'b2', 'b3']);
    const after = statSync(incr).size;
    await server.kill();
    truncateSync(incr, before + Math.floor((after - before) / 2)); // the batch's MULTI/EXEC cut in the middle
    await server.restart();
    await backend.whenReady();
    const s = (await backend.log.load(0))!;
    expect(s.entries.map((e) => e.command)).toEqual(['a1', 'a2']);
    expect({ head: s.head, lastBatch: s.lastBatch }).toEqual({ head: 2, lastBatch: 'A' }); // meta and stream agree
    expect(await backend.log.append(0, fence, 2, 'C', ['c1'])).toBe(3);
  });
});
