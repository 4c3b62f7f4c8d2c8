// One snapshot form (issue 13 after issue 9): a shard's snapshot is src/store/snapshot.ts's Snapshot, so a
// takeover rebuilds exactly what the old owner had, the engine's own memory included: the rate windows
// (LIM-1: a user cannot get past the limit by a failover) and the silent links waiting out their heartbeat
// timeout. Old shard snapshots (the store's dump, `{v: 1}`) are still read; one this build cannot read is
// refused with a clear error naming the shard and the field, and nothing is written.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Platform } from '../../../machines/spec';
import type { StatusError } from '../../../src/errors';
import type { JournalEntry } from '../../../src/records';
import type { Snapshot } from '../../../src/store/snapshot';
import { runParams } from '../../properties/params';
import { ClusterClient } from './client';
import fixture from './fixtures/shard-dump-v1.json';
import { memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

const LEASE_MS = 1000;
const { requests, windowMs } = DEFAULT_LIMITS.rateLimit;
const code = (p: Promise<unknown>) => p.then(() => 0, (e: StatusError) => e.code);

/** Lets leases and heartbeats of a halted node run out without moving the clock (nothing else ages). */
function expire(mem: ReturnType<typeof memoryBackends>, cluster: Cluster, node: string): void {
  const now = cluster.clock.now();
  mem.store.nodes.set(node, now);
  for (const d of mem.store.shards.values()) if (d.lease?.node.split('#')[0] === node) d.lease.expiresAt = now;
}

/** Rounds on the live nodes until every shard is served by one of them. */
async function takeOver(cluster: Cluster, live: Cluster['nodes']): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await Promise.all(live.map((n) => n.runtime.node.tick()));
    await cluster.settle();
    const served = new Set(live.flatMap((n) => [...n.runtime.engines.keys()]));
    if (served.size === 16) return;
  }
  throw new Error('the live nodes did not take every shard over');
}

/** The state of a snapshot as a set: the same records, whatever order a map or index yields them in. */
function normal(s: Snapshot): unknown {
  const byKey = <T extends [string, unknown]>(list: T[]) => [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    ...s,
    status: byKey(s.status),
    subscriptions: byKey(s.subscriptions),
    friends: byKey(s.friends.map(([u, f]) => [u, [...f].sort()] as [string, string[]])),
    notices: byKey(s.notices),
    timers: [...s.timers].sort((a, b) => (a.key < b.key ? -1 : 1)),
    engine: { rates: byKey(s.engine.rates), links: byKey(s.engine.links) },
  };
}

describe('LIM-1 across a takeover: the rate window moves with the shard', () => {
  for (const [name, everyCommands] of [
    ['in the snapshot', 1],
    ['in the log after it', 1000],
  ] as const) {
    it(`LIM-1 a user who used ${requests - 5} of its ${requests} queries is refused call number ${requests + 1} on the new owner (window ${name})`, async () => {
      const mem = memoryBackends(LEASE_MS);
      const cluster = (c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands, retain: 100 } }));
      const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
      await cluster.nodes[0]!.admin.registerUsers(users);
      const victim = cluster.nodes[1]!;
      const a = users.find((u) => cluster.ownerNode(u) === victim)!;
      const b = users.find((u) => cluster.ownerNode(u) === cluster.nodes[0])!;
      let port = victim.port;
      const ca = new ClusterClient(() => port, 'web');
      await ca.login({ userID: a });
      const t0 = cluster.clock.now();
      for (let i = 0; i < requests - 5; i++) expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(0);
      await cluster.settle();
      if (everyCommands === 1) expect(mem.store.shards.get(victim.shardOf(a))!.snap).toBeDefined();

      victim.runtime.halt(); // kill -9
      await cluster.advance(3 * LEASE_MS, LEASE_MS / 2);
      const owner = cluster.nodes.find((n) => n !== victim && n.runtime.engines.has(victim.shardOf(a)))!;
      expect(owner).toBeDefined();
      port = owner.port;
      await ca.reconnect();
      expect(cluster.clock.now() - t0).toBeLessThan(windowMs); // still inside the window the calls were made in
      for (let i = 0; i < 5; i++) expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(0);
      expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(2996);
      // SUB/UNSUB have windows of their own, untouched.
      expect(await code(ca.subscribeUserStatus({ userIDList: [b] }))).toBe(0);
      // A new window once the old one is over.
      await cluster.advance(windowMs, LEASE_MS / 4); // steps well inside the lease: no churn
      // Wherever the shard is now (the two live nodes spread the shards again meanwhile; a front-end retries
      // a login refused by a node that just lost the shard).
      let answer = -1;
      for (let i = 0; i < 10 && answer !== 0; i++) {
        const again = new ClusterClient(cluster.portOf, 'web');
        answer = await code(again.login({ userID: a }).then(() => again.getUserStatus({ userIDList: [b] })));
        if (answer !== 0) await cluster.advance(LEASE_MS / 4);
      }
      expect(answer).toBe(0);
    });
  }

  it('LIM-1 a graceful handoff (no time passing) keeps the window too', async () => {
    const mem = memoryBackends(60_000);
    const cluster = (c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands: 7, retain: 100 } }));
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    await cluster.nodes[0]!.admin.registerUsers(users);
    const victim = cluster.nodes[1]!;
    const a = users.find((u) => cluster.ownerNode(u) === victim)!;
    const b = users.find((u) => cluster.ownerNode(u) === cluster.nodes[2])!;
    let port = victim.port;
    const ca = new ClusterClient(() => port, 'web');
    await ca.login({ userID: a });
    for (let i = 0; i < requests; i++) expect(await code(ca.subscribeUserStatus({ userIDList: [b] }))).toBe(0);
    await victim.stop();
    await cluster.settle();
    port = cluster.ownerNode(a).port;
    expect(port).not.toBe(victim.port);
    await ca.reconnect();
    expect(await code(ca.subscribeUserStatus({ userIDList: [b] }))).toBe(2996);
    expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(0);
  });
});

type Op =
  | { t: 'login'; i: number; native: boolean }
  | { t: 'set'; i: number }
  | { t: 'query'; i: number; j: number }
  | { t: 'sub'; i: number; j: number }
  | { t: 'unsub'; i: number; j: number }
  | { t: 'logout'; i: number }
  | { t: 'silent'; i: number }
  | { t: 'closed'; i: number }
  | { t: 'reconnect'; i: number }
  | { t: 'friend'; i: number; j: number }
  | { t: 'wait'; ms: number };

const N = 10;
const ix = fc.integer({ min: 0, max: N - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('login' as const), i: ix, native: fc.boolean() }),
  fc.record({ t: fc.constant('set' as const), i: ix }),
  fc.record({ t: fc.constant('query' as const), i: ix, j: ix }),
  fc.record({ t: fc.constant('sub' as const), i: ix, j: ix }),
  fc.record({ t: fc.constant('unsub' as const), i: ix, j: ix }),
  fc.record({ t: fc.constant('logout' as const), i: ix }),
  fc.record({ t: fc.constant('silent' as const), i: ix }),
  fc.record({ t: fc.constant('closed' as const), i: ix }),
  fc.record({ t: fc.constant('reconnect' as const), i: ix }),
  fc.record({ t: fc.constant('friend' as const), i: ix, j: ix }),
  fc.record({ t: fc.constant('wait' as const), ms: fc.constantFrom(0, 300, 2000, 20_000) }),
);

describe('a takeover rebuilds exactly the old owner (snapshot + tail at random snapshot points)', () => {
  it('EXT-3 for every shard of a killed node, the new owner holds the same exportState and the same snapshot (rate windows, links, timers, mirrors)', async () => {
    let withTail = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(op, { minLength: 5, maxLength: 45 }), async (everyCommands, ops) => {
        const mem = memoryBackends(3_600_000);
        const cluster = (c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands, retain: 2 } }));
        try {
          const users = Array.from({ length: N }, (_, i) => `u${i}`);
          await cluster.nodes[0]!.admin.registerUsers(users);
          const clients: Array<ClusterClient | undefined> = [];
          const client = (i: number, platform: Platform = 'web') => (clients[i] ??= new ClusterClient(cluster.portOf, platform));
          const run = async (o: Op) => {
            switch (o.t) {
              case 'login':
                return client(o.i, o.native ? 'android' : 'web').login({ userID: users[o.i]! });
              case 'set':
                return client(o.i).setSelfStatus({ customStatus: `c${o.i}` });
              case 'query':
                return client(o.i).getUserStatus({ userIDList: [users[o.j]!] });
              case 'sub':
                return client(o.i).subscribeUserStatus({ userIDList: [users[o.j]!] });
              case 'unsub':
                return client(o.i).unsubscribeUserStatus({ userIDList: [users[o.j]!] });
              case 'logout':
                return client(o.i).logout();
              case 'silent':
                return client(o.i).disconnect('network_lost');
              case 'closed':
                return client(o.i).disconnect('link_closed');
              case 'reconnect':
                return client(o.i).reconnect();
              case 'friend':
                return cluster.nodes[0]!.admin.changeFriends(users[o.i]!, [users[o.j]!], true);
              case 'wait':
                return cluster.advance(o.ms, 1000);
            }
          };
          for (const o of ops) {
            try {
              await run(o);
            } catch {
              // A refused call (not logged in, rate limited, ...) changes nothing; the state is what is compared.
            }
          }
          await cluster.settle();
          const victim = cluster.nodes[1]!;
          const old = new Map([...victim.runtime.engines].map(([s, e]) => [s, { state: e.core.exportState(), snap: normal(e.core.snapshot()), head: mem.store.shards.get(s)!.meta!.head }]));
          // What a shard writes is the engine's snapshot (made without its copies).
          for (const [s, e] of victim.runtime.engines) expect(normal(JSON.parse(JSON.stringify(e.snapshotNow())))).toEqual(old.get(s)!.snap);
          for (const s of old.keys()) if ((mem.store.shards.get(s)?.log.at(-1)?.offset ?? 0) > (mem.store.shards.get(s)?.snap?.offset ?? 0)) withTail += 1;

          victim.runtime.halt();
          expire(mem, cluster, 'n2');
          await takeOver(cluster, [cluster.nodes[0]!, cluster.nodes[2]!]);
          for (const [s, before] of old) {
            const e = [cluster.nodes[0]!, cluster.nodes[2]!].map((n) => n.runtime.engines.get(s)).find((x) => x !== undefined)!;
            expect(e.core.exportState()).toEqual(before.state);
            // The new owner sends its tail's mirrors again (the log is the outbox): a mirror applied twice
            // changes nothing but is a command of its own, so the seq may have moved on by such commands only.
            const since = mem.store.shards.get(s)!.log.filter((x) => x.offset > before.head).map((x) => (JSON.parse(x.command) as JournalEntry & { kind: 'command' }).command.type);
            expect(since.every((t) => t === 'edges.mirror')).toBe(true);
            const now = normal(e.core.snapshot()) as { seq: number };
            expect({ ...now, seq: since.length === 0 ? now.seq : (before.snap as { seq: number }).seq }).toEqual(before.snap);
          }
        } finally {
          await cluster.close();
          c = undefined;
        }
      }),
      runParams('cluster-takeover-snapshot', 25),
    );
    expect(withTail).toBeGreaterThan(0); // some takeovers replayed a tail after their snapshot
  }, 240_000);
});

describe('old shard snapshots (the store dump of 7ab8287) and unreadable ones', () => {
  /** A memory "Redis" holding the fixture's shards: every snapshot in the old form, some with a tail. */
  function fromFixture() {
    const mem = memoryBackends(3_600_000);
    for (const s of fixture.shards) {
      const d = mem.store.shard(s.shard);
      d.meta = { ...s.meta };
      d.log = s.log.map((e) => ({ ...e }));
      if (s.snap !== null) d.snap = { ...s.snap };
    }
    return mem;
  }

  it('EXT-3 an old-form shard snapshot is read: every shard rebuilds the state its old owner had, and its next snapshot is the new form', async () => {
    const mem = fromFixture();
    expect(fixture.shards.every((s) => s.snap !== null && (JSON.parse(s.snap.data) as { v?: number }).v === 1)).toBe(true);
    const clock = new (await import('xstate')).SimulatedClock();
    clock.set(fixture.at);
    const cluster = (c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands: 1, retain: 3 } }, clock));
    const engines = new Map(cluster.nodes.flatMap((n) => [...n.runtime.engines]));
    expect(engines.size).toBe(16);
    for (const [s, e] of engines) expect(e.core.exportState()).toEqual((fixture.expected as Record<string, unknown>)[s]);
    // The timers of the old form still run: the logged-out user's subscriptions are cleared when due.
    const u4 = () => engines.get(cluster.nodes[0]!.shardOf('u4'))!.core.exportState().users['u4']!;
    expect(u4().subscriptions.length).toBeGreaterThan(0);
    await cluster.advance(DEFAULT_LIMITS.subscriptionClearAfterLogoutMs + 1000, 60_000);
    const e4 = [...cluster.nodes].map((n) => n.runtime.engines.get(n.shardOf('u4'))).find((x) => x !== undefined)!;
    expect(e4.core.exportState().users['u4']!.subscriptions).toEqual([]);
    // Written since: the new form.
    const snap = mem.store.shards.get(cluster.nodes[0]!.shardOf('u4'))!.snap!;
    expect(JSON.parse(snap.data)).toMatchObject({ kind: 'status-engine.snapshot', format: 1 });
  });

  for (const [what, data, field] of [
    ['a newer format', JSON.stringify({ kind: 'status-engine.snapshot', format: 99 }), 'format'],
    ['a dump of an unknown version', JSON.stringify({ v: 2, seq: 3 }), 'v'],
    ['not JSON', '{"kind":', 'data'],
  ] as const) {
    it(`${what}: the shard is refused with an error naming it and the field, nothing is written, the other shards are served`, async () => {
      const mem = fromFixture();
      const bad = 1;
      const d = mem.store.shard(bad);
      d.snap = { offset: d.snap!.offset, data };
      const head = d.meta!.head;
      const cluster = (c = await startCluster(3, mem.make, { autoTick: true }));
      const served = new Set(cluster.nodes.flatMap((n) => [...n.runtime.engines.keys()]));
      expect(served.has(bad)).toBe(false);
      expect(served.size).toBe(15);
      const errors = cluster.nodes.map((n) => n.health().lastError).filter((e): e is string => typeof e === 'string');
      expect(errors.some((e) => e.includes(`shard ${bad}`) && e.includes(`snapshot.${field}`))).toBe(true);
      // Its users' calls are refused with a retry code, not answered from an empty shard.
      const user = Array.from({ length: 200 }, (_, i) => `u${i}`).find((u) => cluster.nodes[0]!.shardOf(u) === bad)!;
      const refused = await code(new ClusterClient(cluster.portOf, 'web').login({ userID: user }));
      expect([75001, 75006]).toContain(refused);
      expect(mem.store.shard(bad).meta!.head).toBe(head);
      expect(mem.store.shard(bad).snap!.data).toBe(data);
    });
  }
});
