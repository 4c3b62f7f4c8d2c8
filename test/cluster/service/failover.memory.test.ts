// Failover inside one process (memory backend, simulated clock): a node frozen (SIGSTOP, a long pause) loses
// its shards when its lease runs out; another node rebuilds them from snapshot + log. Checked: every
// acknowledged write is there exactly once, versions never go back, the dead node's device goes offline
// after its heartbeat timeout (no ghost), and the thawed node is fenced and writes nothing. A graceful
// stop hands over at once.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, TYPES } from '../../../machines/spec';
import type { JournalEntry } from '../../../src/records';
import type { StatusError } from '../../../src/errors';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE_MS = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

async function setup() {
  const mem = memoryBackends(LEASE_MS);
  c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands: 4, retain: 100_000 } });
  const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
  await c.nodes[0]!.admin.registerUsers(users);
  const victim = c.nodes[1]!;
  const a = users.find((u) => c.ownerNode(u) === victim)!;
  const b = users.find((u) => c.ownerNode(u) === c.nodes[0])!;
  const d = users.find((u) => c.ownerNode(u) === c.nodes[2])!;
  return { mem, users, victim, a, b, d };
}

/** The commands of a shard's log (snapshot or not: the memory backend keeps them all, retain aside). */
function commandsOf(mem: ReturnType<typeof memoryBackends>, shard: number): Array<Extract<JournalEntry, { kind: 'command' }>> {
  return (mem.store.shards.get(shard)?.log ?? []).map((e) => JSON.parse(e.command) as Extract<JournalEntry, { kind: 'command' }>);
}

describe('failover (memory backend, 3 nodes)', () => {
  it('a frozen node: takeover after the lease, nothing acknowledged lost or doubled, no ghost, the old owner fenced', async () => {
    const { mem, victim, a, b } = await setup();
    const shard = victim.shardOf(a);
    const ca = new ClusterClient(() => victim.port, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: Array<{ customStatus: string; version?: number }> = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data.filter((s) => s.userID === a)));
    await cb.subscribeUserStatus({ userIDList: [a] });
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      await ca.setSelfStatus({ customStatus: `s${i}` });
      acked.push(`s${i}`);
    }
    await c.settle();
    const before = (await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!;
    expect(before).toMatchObject({ customStatus: 's9', statusType: TYPES.USER_STATUS_ONLINE });

    victim.runtime.node.freeze(); // stops heartbeats and renewals; its engines still think they own
    await c.advance(3 * LEASE_MS, 1000);
    const owner = c.nodes.find((s) => s !== victim && s.runtime.engines.has(shard))!;
    expect(owner).toBeDefined();
    expect(owner.runtime.engines.get(shard)!.store.userCount()).toBeGreaterThan(0);
    // Rebuilt from a snapshot plus the tail after it.
    expect(mem.store.shards.get(shard)!.snap).toBeDefined();

    const after = (await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!;
    expect(after.customStatus).toBe('s9');
    expect((after as { version: number }).version).toBeGreaterThanOrEqual((before as { version: number }).version);
    const sets = commandsOf(mem, shard).filter((e) => e.command.type === 'status.set' && e.command.userID === a);
    expect(sets.map((e) => (e.command as { customStatus: string }).customStatus)).toEqual(acked); // each once, in order
    // cb heard each change once, in order, versions going up.
    expect(heard.slice(0, 10).map((s) => s.customStatus)).toEqual(acked);
    const versions = heard.map((s) => s.version ?? 0);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);

    // a's device was connected on the dead node and never comes back: online until its heartbeat timeout, then not.
    expect(after.statusType).toBe(TYPES.USER_STATUS_ONLINE);
    await c.advance(DEFAULT_LIMITS.webHeartbeatTimeoutMs + 1000, 5000);
    const gone = (await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!;
    expect(gone.statusType).not.toBe(TYPES.USER_STATUS_ONLINE);
    await c.settle();
    expect(heard.at(-1)?.customStatus).toBe('s9');

    // The old owner wakes: its write is refused by the storage (fenced), and nothing of it is in the log.
    victim.runtime.node.thaw();
    const head = commandsOf(mem, shard).length;
    const err = (await ca.setSelfStatus({ customStatus: 'stale' }).catch((e: unknown) => e)) as StatusError;
    expect(err.code).toBe(75003);
    await c.settle();
    expect(commandsOf(mem, shard).length).toBe(head);
    expect(commandsOf(mem, shard).some((e) => e.command.type === 'status.set' && (e.command as { customStatus: string }).customStatus === 'stale')).toBe(false);
    expect(victim.runtime.engines.has(shard)).toBe(false);
  });

  it('writes under load while the owner freezes: every acknowledged one is in the new owner, once', async () => {
    const { mem, victim, users } = await setup();
    const mine = users.filter((u) => c.ownerNode(u) === victim).slice(0, 6);
    const clients = mine.map(() => new ClusterClient(() => victim.port, 'web'));
    for (let i = 0; i < mine.length; i++) await clients[i]!.login({ userID: mine[i]! });
    const acked = new Map<string, string[]>(mine.map((u) => [u, []]));
    const failed: number[] = [];
    let round = 0;
    const load = async () => {
      await Promise.all(
        clients.map(async (cl, i) => {
          const value = `r${round}`;
          try {
            await cl.setSelfStatus({ customStatus: value });
            acked.get(mine[i]!)!.push(value);
          } catch (e) {
            failed.push((e as StatusError).code);
          }
        }),
      );
      round += 1;
    };
    for (let i = 0; i < 5; i++) await load();
    victim.runtime.node.freeze();
    for (let i = 0; i < 30; i++) {
      c.clock.increment(1000);
      await load();
      await c.settle();
    }
    // Every acknowledged write is in its shard's log exactly once; the writes after the takeover were refused.
    for (const u of mine) {
      const sets = commandsOf(mem, victim.shardOf(u)).filter((e) => e.command.type === 'status.set' && e.command.userID === u);
      expect(sets.map((e) => (e.command as { customStatus: string }).customStatus)).toEqual(acked.get(u));
      const now = (await c.nodes[0]!.admin.queryStatus([u], undefined))[0]!;
      expect(now.customStatus).toBe(acked.get(u)!.at(-1));
    }
    // Refused: fenced by the storage (75003); then, its engine dropped, the frozen node (whose view of the
    // cluster is as old as its last round) says the shard is not served here: 75001 retry, or 75006.
    expect(failed).toContain(75003);
    expect(failed.every((code) => code === 75003 || code === 75001 || code === 75006)).toBe(true);
  });

  it('a client of the dead node reconnects to the new owner and resumes: what it missed once, then live, no timeout', async () => {
    const { victim, a, b } = await setup();
    let port = victim.port;
    const ca = new ClusterClient(() => port, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: string[] = [];
    ca.on('onUserStatusUpdated', (e) => heard.push(...e.data.filter((x) => x.userID === b).map((x) => x.customStatus)));
    await ca.subscribeUserStatus({ userIDList: [b] });
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    expect(heard).toEqual(['b1']);
    victim.runtime.halt(); // kill -9: its socket to ca is gone too
    await cb.setSelfStatus({ customStatus: 'b2' }); // missed
    await c.advance(3 * LEASE_MS, 1000);
    const owner = c.nodes.find((n) => n !== victim && n.runtime.engines.has(victim.shardOf(a)))!;
    port = owner.port; // the client tries the next URL
    await ca.reconnect();
    await c.settle();
    expect(heard).toEqual(['b1', 'b2']);
    await cb.setSelfStatus({ customStatus: 'b3' });
    await c.settle();
    expect(heard).toEqual(['b1', 'b2', 'b3']);
    await c.advance(DEFAULT_LIMITS.webHeartbeatTimeoutMs + 1000, 5000);
    expect((await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!.statusType).toBe(TYPES.USER_STATUS_ONLINE);
  });

  it('a native device of a dead node goes offline after nativeHeartbeatTimeoutMs on the new owner, not before', async () => {
    const { victim, users } = await setup();
    const e = users.filter((u) => c.ownerNode(u) === victim)[1]!;
    const ce = new ClusterClient(() => victim.port, 'android');
    await ce.login({ userID: e });
    victim.runtime.halt();
    await c.advance(3 * LEASE_MS, 1000);
    const status = async () => (await c.nodes[0]!.admin.queryStatus([e], undefined))[0]!.statusType;
    expect(await status()).toBe(TYPES.USER_STATUS_ONLINE);
    await c.advance(DEFAULT_LIMITS.nativeHeartbeatTimeoutMs - 5 * LEASE_MS, 2000); // steps well inside the lease
    expect(await status()).toBe(TYPES.USER_STATUS_ONLINE);
    await c.advance(5 * LEASE_MS, 1000);
    expect(await status()).toBe(TYPES.USER_STATUS_OFFLINE);
  });

  it('a pause shorter than the lease: nobody takes over, the node goes on, nothing lost', async () => {
    const { victim, a } = await setup();
    const shards = victim.health().shards;
    const ca = new ClusterClient(() => victim.port, 'web');
    await ca.login({ userID: a });
    await ca.setSelfStatus({ customStatus: 'before' });
    victim.runtime.node.freeze();
    await c.advance(LEASE_MS / 2, 1000);
    victim.runtime.node.thaw(); // its rounds resume on their own
    await c.advance(3 * LEASE_MS, 1000);
    expect(victim.health().shards).toEqual(shards);
    await ca.setSelfStatus({ customStatus: 'after' });
    expect((await c.nodes[0]!.admin.queryStatus([a], undefined))[0]).toMatchObject({ customStatus: 'after', statusType: TYPES.USER_STATUS_ONLINE });
  });

  it('a graceful stop hands every shard over at once (no lease wait), state intact', async () => {
    const { victim, a } = await setup();
    const ca = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await ca.setSelfStatus({ customStatus: 'kept' });
    const t0 = c.clock.now();
    await victim.stop();
    await c.settle();
    expect(c.clock.now()).toBe(t0); // no simulated time passed: nobody waited for a lease
    expect(victim.health().shards).toEqual([]);
    const owned = c.nodes.filter((s) => s !== victim).flatMap((s) => s.health().shards);
    expect(owned.sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
    expect((await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!.customStatus).toBe('kept');
  });
});

describe('mirrors: the log is the outbox', () => {
  it('a mirror that never reached its target before its sender died is sent again by the next owner', async () => {
    const mem = memoryBackends(LEASE_MS);
    c = await startCluster(3, mem.make, { autoTick: true, snapshot: { everyCommands: 1, retain: 100_000 } });
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const victim = c.nodes[1]!;
    const a = users.find((u) => c.ownerNode(u) === victim)!;
    const b = users.find((u) => c.ownerNode(u) === c.nodes[0])!;
    const target = () => c.nodes[0]!.runtime.engines.get(c.nodes[0]!.shardOf(b))!.store.subscribersOf(b);
    const ca = new ClusterClient(() => victim.port, 'web');
    await ca.login({ userID: a });
    // The victim's mirrors do not get through (nobody hears them), then it dies.
    const bus = c.backends[1]!.bus;
    const publish = bus.publish.bind(bus);
    bus.publish = async (node, message) => (message.includes('"op":"mirror"') ? 0 : publish(node, message));
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.advance(2000, 500); // retried meanwhile, still refused
    expect(target()?.has(a) ?? false).toBe(false);
    expect(victim.runtime.counts.mirrorRetries).toBeGreaterThan(0);
    victim.runtime.halt();
    await c.advance(3 * LEASE_MS, 1000);
    const owner = c.nodes.find((s) => s !== victim && s.runtime.engines.has(victim.shardOf(a)))!;
    expect(owner).toBeDefined();
    expect(target()?.has(a)).toBe(true);
  });
});
