// Shard-log appends on a real redis-server (appendfsync always): appends/s and Redis operations per command,
// one script call per command (the baseline) against group commit (ShardWriter), in the same run.
//
//   node --import tsx bench/cluster/appends.ts [--commands 20000] [--shards 8] [--callers 64] [--json FILE]
//
// Redis counts the operations itself (INFO commandstats: EVALSHA calls, and every command the scripts ran).
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { SimulatedClock } from 'xstate';
import { ShardWriter } from '../../src/cluster/groupCommit';
import { createRedisCluster, type RedisClusterBackend } from '../../src/cluster/redis/backend';
import type { Fence } from '../../src/cluster/types';
import { RedisServer } from '../../test/cluster/redis';
import { commandCalls } from '../../test/cluster/stats';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const COMMANDS = arg('commands', 20_000);
const SHARDS = arg('shards', 8);
const CALLERS = arg('callers', 64); // concurrent callers per shard (connections whose users live there)
const jsonAt = process.argv.indexOf('--json');
const JSON_OUT = jsonAt > 0 ? process.argv[jsonAt + 1] : undefined;

interface Row {
  mode: string;
  commands: number;
  seconds: number;
  appendsPerSec: number;
  scriptCallsPerCommand: number;
  redisOpsPerCommand: number;
  commandsPerScriptCall: number;
}

const payload = (i: number) => JSON.stringify({ t: 'STATUS.SET', userID: `u${i}`, customStatus: 'x'.repeat(32) });

async function setup(b: RedisClusterBackend, prefixShard: number): Promise<Fence[]> {
  const fences: Fence[] = [];
  for (let s = 0; s < SHARDS; s++) {
    const r = await b.lease.acquire(s, `bench${prefixShard}`);
    if (!r.ok) throw new Error('lease');
    fences.push({ token: r.grant.token, epoch: (await b.log.open(s, `E${s}`)).epoch });
  }
  return fences;
}

async function measure(mode: string, admin: Redis, run: () => Promise<void>): Promise<Row> {
  const before = await commandCalls(admin);
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const after = await commandCalls(admin);
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  let ops = 0;
  for (const k of after.keys()) if (k !== 'info') ops += delta(k);
  const scripts = delta('evalsha') + delta('eval');
  return {
    mode,
    commands: COMMANDS,
    seconds: +seconds.toFixed(3),
    appendsPerSec: Math.round(COMMANDS / seconds),
    scriptCallsPerCommand: +(scripts / COMMANDS).toFixed(4),
    redisOpsPerCommand: +(ops / COMMANDS).toFixed(3),
    commandsPerScriptCall: +(COMMANDS / scripts).toFixed(1),
  };
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = new Redis(server.url);
  const clock = new SimulatedClock();
  const rows: Row[] = [];
  try {
    // Baseline: every command its own append (its own script call, its own fsync), shards in parallel.
    {
      const b = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 600_000, heartbeatTtlMs: 600_000, prefix: 'one' });
      const fences = await setup(b, 1);
      rows.push(
        await measure('one append per command', admin, async () => {
          const per = Math.ceil(COMMANDS / SHARDS);
          await Promise.all(
            fences.map(async (fence, s) => {
              for (let i = 0; i < per && s * per + i < COMMANDS; i++) await b.log.append(s, fence, i, `b${i}`, [payload(i)]);
            }),
          );
        }),
      );
      await b.close();
    }
    // Group commit: CALLERS concurrent callers per shard, each waiting for its ack before its next call.
    {
      const b = await createRedisCluster({ url: server.url, clock, leaseTtlMs: 600_000, heartbeatTtlMs: 600_000, prefix: 'group' });
      const fences = await setup(b, 2);
      const writers = fences.map((fence, shard) => new ShardWriter({ shard, log: b.log, fence, head: 0 }));
      rows.push(
        await measure(`group commit (${CALLERS} callers/shard)`, admin, async () => {
          let next = 0;
          const caller = async (w: ShardWriter) => {
            while (next < COMMANDS) await w.append(payload(next++));
          };
          await Promise.all(writers.flatMap((w) => Array.from({ length: CALLERS }, () => caller(w))));
        }),
      );
      await b.close();
    }
  } finally {
    admin.disconnect();
    await server.stop();
  }
  const base = rows[0]!;
  console.log(`\nredis-server appendfsync always, ${SHARDS} shards, ${COMMANDS} commands\n`);
  console.log('| mode | appends/s | x baseline | script calls/command | Redis ops/command | commands/script call |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.mode} | ${r.appendsPerSec} | ${(r.appendsPerSec / base.appendsPerSec).toFixed(1)} | ${r.scriptCallsPerCommand} | ${r.redisOpsPerCommand} | ${r.commandsPerScriptCall} |`);
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ shards: SHARDS, callers: CALLERS, rows }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
