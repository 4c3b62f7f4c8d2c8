// Several ClusterServices in one process over one backend (the in-memory one, or a real redis-server), on
// one simulated clock: the cluster as `serve --redis` nodes would make it, without sockets.
import { SimulatedClock } from 'xstate';
import { createClusterService, type ClusterServiceInternals, type ClusterServiceOptions } from '../../../src/cluster/createService';
import { createMemoryCluster, MemoryStore } from '../../../src/cluster/memory';
import type { ClusterBackend } from '../../../src/cluster/types';
import type { Clock } from '../../../src/clock';
import type { ClusterPort } from '../../../src/cluster/service';

export type BackendFactory = (clock: Clock) => Promise<ClusterBackend>;

export const memoryBackends = (leaseTtlMs: number, heartbeatTtlMs = leaseTtlMs) => {
  const store = new MemoryStore();
  return { store, make: async (clock: Clock) => createMemoryCluster(store, { clock, leaseTtlMs, heartbeatTtlMs }) };
};

export interface Cluster {
  clock: SimulatedClock;
  nodes: ClusterServiceInternals[];
  backends: ClusterBackend[];
  /** The node that owns `userID`'s shard now (where a front-end relays its client). */
  ownerNode(userID: string): ClusterServiceInternals;
  portOf(userID: string | null): ClusterPort;
  /** Event-loop turns until no shard has an append in flight (3 quiet turns in a row). */
  settle(): Promise<void>;
  /** Lets time pass in steps no longer than `stepMs`, settling after each. */
  advance(ms: number, stepMs?: number): Promise<void>;
  add(id: string): Promise<ClusterServiceInternals>;
  close(): Promise<void>;
}

export const turn = () => new Promise<void>((r) => setImmediate(r));

export async function startCluster(
  n: number,
  make: BackendFactory,
  options: Partial<Omit<ClusterServiceOptions, 'backend' | 'nodeId' | 'clock'>> = {},
  clock = new SimulatedClock(),
): Promise<Cluster> {
  const nodes: ClusterServiceInternals[] = [];
  const backends: ClusterBackend[] = [];
  // Busy: an append, a forwarded call or a push in flight somewhere (every node is in this process).
  const busy = () => {
    let sent = 0;
    let received = 0;
    for (const s of nodes) {
      if (s.runtime.busy()) return true;
      sent += s.runtime.counts.pushesSent - s.runtime.counts.pushesLost;
      received += s.runtime.counts.pushesReceived;
    }
    return sent !== received;
  };
  const settle = async () => {
    let quiet = 0;
    const until = Date.now() + 10_000;
    while (quiet < 3 && Date.now() < until) {
      await turn();
      quiet = busy() ? 0 : quiet + 1;
    }
  };
  const add = async (id: string) => {
    const backend = await make(clock);
    backends.push(backend);
    const s = createClusterService({ shards: 16, engine: { switches: { userStatus: true } }, ...options, backend, nodeId: id, clock });
    nodes.push(s);
    await s.start();
    await settle();
    return s;
  };
  for (let i = 0; i < n; i++) await add(`n${i + 1}`);
  // Every node has its share (the first ones handed shards over when the later ones joined).
  for (let i = 0; i < 5; i++) {
    await Promise.all(nodes.map((s) => s.runtime.node.tick()));
    await settle();
  }
  const ownerNode = (userID: string) => {
    const shard = nodes[0]!.shardOf(userID);
    // Serving it; else holding its lease (rebuilding it); else whoever its nodes say (their port answers why not).
    return nodes.find((s) => s.runtime.engines.has(shard)) ?? nodes.find((s) => s.runtime.node.shard(shard) !== undefined) ?? nodes[0]!;
  };
  return {
    clock,
    nodes,
    backends,
    ownerNode,
    portOf: (userID) => (userID === null ? nodes[0]!.port : ownerNode(userID).port),
    settle,
    async advance(ms, stepMs = ms) {
      let left = ms;
      while (left > 0) {
        const step = Math.min(left, stepMs);
        clock.increment(step);
        left -= step;
        await settle();
      }
    },
    add,
    async close() {
      for (const s of nodes) await s.stop().catch(() => undefined);
      for (const b of backends) await b.close().catch(() => undefined);
    },
  };
}

/** 60 users (u0..u59) registered; alice (u0), the node that owns her shard, and bob: a user another node owns. */
export async function aliceAndBobApart(c: Cluster) {
  const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
  await c.nodes[0]!.admin.registerUsers(users);
  const alice = users[0]!;
  const node = c.ownerNode(alice);
  const bob = users.find((u) => c.ownerNode(u) !== node)!;
  return { alice, node, bob };
}
