// A ClusterService of one node over an in-process engine whose prepare and acknowledge wait until the test
// lets them go: to see the front-ends' asynchronous call path (order per connection, errors) and the
// cluster parts of the server (/healthz, shard loss) without the cluster's own timing.
import { SimulatedClock } from 'xstate';
import type { ClusterHealth, ClusterService } from '../../../src/cluster/service';
import { coreOf, createEngine } from '../../../src/engine/engine';

export interface Gate {
  what: string;
  release(): void;
  fail(e: unknown): void;
}

export function fakeCluster(nodeId = 'solo') {
  const clock = new SimulatedClock();
  const engine = coreOf(createEngine({ clock, switches: { userStatus: true, friendStatusNotify: true } }));
  const gates: Gate[] = [];
  const wait = <T>(what: string, value: T) =>
    new Promise<T>((resolve, reject) => gates.push({ what, release: () => resolve(value), fail: reject }));
  let gated = true;
  const port = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'prepare') return (call: string, _s: unknown, _arg: unknown) => (gated ? wait(`prepare:${call}`, undefined) : Promise.resolve());
      if (prop === 'acknowledgesLater') return true;
      if (prop === 'acknowledge') return <T>(v: T) => (gated ? wait('ack', v) : Promise.resolve(v));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  let redis: ClusterHealth['redis'] = 'ready';
  const lost = new Set<(shard: number) => void>();
  const service: ClusterService = {
    nodeId,
    port: port as unknown as ClusterService['port'],
    admin: {
      registerUsers: async (ids) => engine.registerUsers(ids),
      hasUser: async (id) => engine.hasUser(id),
      changeFriends: async (u, f, add, both) => engine.changeFriends(u, f, add, both),
      configure: async (c) => engine.configure(c),
      settings: async () => engine.settings(),
      queryStatus: async (ids, o) => engine.queryStatus(ids, o),
      explain: async (u) => engine.explain(u),
      journal: async (_shard, o) => engine.journal(o),
    },
    shardOf: (u) => (u.startsWith('s1') ? 1 : 0),
    ownerOf: () => nodeId,
    onShardLost: (l) => {
      lost.add(l);
      return () => lost.delete(l);
    },
    health: () => ({ node: nodeId, shards: [0, 1], shardCount: 2, live: [nodeId], redis, lastError: redis === 'ready' ? null : 'connect ECONNREFUSED' }),
    start: async () => {},
    stop: async () => {},
  };
  return {
    service,
    engine,
    clock,
    gates,
    /** From now on prepare and acknowledge go through at once (true) or wait (false). */
    open(on: boolean) {
      gated = !on;
      if (on) for (const g of gates.splice(0)) g.release();
    },
    /** The oldest waiting gate (after letting the event loop turn). */
    async next(): Promise<Gate> {
      for (let i = 0; i < 200 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
      const g = gates.shift();
      if (!g) throw new Error('nothing is waiting on prepare or acknowledge');
      return g;
    },
    setRedis(state: ClusterHealth['redis']) {
      redis = state;
    },
    loseShard(shard: number) {
      for (const l of lost) l(shard);
    },
  };
}
