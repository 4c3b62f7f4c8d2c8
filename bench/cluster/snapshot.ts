// A cluster shard's snapshot and takeover rebuild, at a few thousand users per shard: the snapshot's size,
// the time to take it (make + JSON), and the time a new owner takes to rebuild the shard from snapshot + a
// tail of the log (ShardEngine's constructor, as on a takeover). Built through one node's port over the
// memory backend (no Redis: the figures are the node's own work). Runs unchanged on the tree before the one
// snapshot form (7ab8287), so that the two can be compared on one machine:
//   BENCH_USERS=6000 BENCH_SHARDS=2 BENCH_TAIL=1000 BENCH_REPEAT=5 npx tsx bench/cluster/snapshot.ts
import { loadavg } from 'node:os';
import { ShardEngine } from '../../src/cluster/shardEngine';
import { ClusterClient } from '../../test/cluster/service/client';
import { memoryBackends, startCluster } from '../../test/cluster/service/harness';

const USERS = Number(process.env.BENCH_USERS ?? 6000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 2);
const TAIL = Number(process.env.BENCH_TAIL ?? 1000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const BATCH = 250;

const load0 = loadavg()[0]!;
const mem = memoryBackends(3_600_000_000);
// No snapshot of its own: the bench takes one where it wants it.
const c = await startCluster(1, mem.make, { shards: SHARDS, snapshot: { everyCommands: 1e12, everyMs: 1e15, retain: 1e9 }, journalMaxEntries: 1000 });
const node = c.nodes[0]!;
const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
for (let i = 0; i < USERS; i += 100) await node.admin.registerUsers(users.slice(i, i + 100));
for (let i = 0; i < USERS; i += 100) await node.admin.changeFriends(users[i]!, users.slice(i + 1, i + 4), true);

const clients = users.map((_, i) => new ClusterClient(c.portOf, i % 4 === 0 ? 'android' : 'web'));
async function each(fn: (cl: ClusterClient, i: number) => Promise<unknown>, only: (i: number) => boolean = () => true): Promise<void> {
  for (let i = 0; i < USERS; i += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let k = i; k < Math.min(USERS, i + BATCH); k++) if (only(k)) batch.push(fn(clients[k]!, k).catch(() => undefined));
    await Promise.all(batch);
    await c.settle();
  }
}
const t0 = Date.now();
await each((cl, i) => cl.login({ userID: users[i]! }));
await each((cl, i) => cl.setSelfStatus({ customStatus: `s${i}` }));
// Five subscriptions each (most of them to another shard's users), one query of others (a rate window each).
await each((cl, i) => cl.subscribeUserStatus({ userIDList: [1, 7, 31, 101, 503].map((d) => users[(i + d) % USERS]!) }));
await each((cl, i) => cl.getUserStatus({ userIDList: [users[(i + 3) % USERS]!] }));
// Some leave: a logout (clear timers), a network gone quiet (a silent link and its heartbeat timer).
await each((cl) => cl.logout(), (i) => i % 10 === 1);
await each(async (cl) => cl.disconnect('network_lost'), (i) => i % 10 === 2);
await c.settle();
const built = Date.now() - t0;

type Internal = { snapshot(offset: number): void };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Array<Record<string, number>> = [];
for (const [shard, engine] of node.runtime.engines) {
  const head = mem.store.shards.get(shard)!.meta!.head;
  // Taking the snapshot: made and serialized synchronously, written by the backend after.
  const take: number[] = [];
  const takeCpu: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const u = process.cpuUsage();
    const s = process.hrtime.bigint();
    (engine as unknown as Internal).snapshot(head);
    take.push(Number(process.hrtime.bigint() - s) / 1e6);
    const d = process.cpuUsage(u);
    takeCpu.push((d.user + d.system) / 1000);
    await c.settle();
  }
  const bytes = mem.store.shards.get(shard)!.snap!.data.length;
  rows.push({ shard, users: engine.store.userCount(), snapshotBytes: bytes, takeMs: median(take), takeCpuMs: median(takeCpu) });
}
// A tail after the snapshots: TAIL status changes spread over the users.
for (let k = 0; k < TAIL; k += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, TAIL - k) }, (_, j) => clients[((k + j) * 7) % USERS]!.setSelfStatus({ customStatus: `t${k + j}` }).catch(() => undefined)));
  await c.settle();
}
const reader = await mem.make(c.clock);
for (const row of rows) {
  const shard = row.shard!;
  const state = (await reader.log.load(shard))!;
  const owned = { grant: { shard, node: 'bench', token: 1, expiresAt: Number.MAX_SAFE_INTEGER }, state, writer: { append: async () => 0 } };
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const u = process.cpuUsage();
    const s = process.hrtime.bigint();
    const e = new ShardEngine({
      owned: owned as never,
      shards: SHARDS,
      clock: c.clock,
      log: reader.log,
      engine: { switches: { userStatus: true } },
      routes: { one: () => {}, many: () => {}, peer: () => undefined },
      onFailure: () => {},
    });
    wall.push(Number(process.hrtime.bigint() - s) / 1e6);
    const d = process.cpuUsage(u);
    cpu.push((d.user + d.system) / 1000);
    if (e.store.userCount() !== row.users) throw new Error(`rebuilt ${e.store.userCount()} users, expected ${row.users}`);
    e.close();
  }
  Object.assign(row, { tail: state.entries.length, rebuildMs: median(wall), rebuildCpuMs: median(cpu) });
}
await reader.close();
await c.close();
console.log(JSON.stringify({ users: USERS, shards: SHARDS, tail: TAIL, repeat: REPEAT, buildMs: built, load: [load0, loadavg()[0]], rows }));
