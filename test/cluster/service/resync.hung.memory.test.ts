// NTF-1 / EXT-2 while a peer does not answer (memory backend, simulated clock, 3 nodes): a resync resumes each
// device that hears of the shard, each fetching the facts of its scope first; against a peer that never answers
// each fetch waits for the forward timeout. One device after the other, a pass over n devices took n timeouts,
// the shard's pushes (and, since the resyncs of a failover share passes, other shards') waiting behind it.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, turn, type Cluster } from './harness';

const LEASE = 10_000;
const TIMEOUT = 2000;
let c: Cluster;
afterEach(async () => c?.close());

type Resyncing = { resync: (shard: number) => Promise<void> };

describe('a resync while the peer it fetches from does not answer (memory backend, 3 nodes)', () => {
  it('NTF-1: 150 devices are resumed 64 at a time (3 forward timeouts, not 150), and another shard\'s resync does not wait for that pass', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false, forwardTimeoutMs: TIMEOUT });
    const users = Array.from({ length: 600 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Cluster['nodes'][number], Cluster['nodes'][number]];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    // And one device on y that hears of a user of another shard (owned by x too), whose fetches x answers.
    const a = users.find((u) => c.ownerNode(u) === x && x.shardOf(u) !== x.shardOf(b))!;
    const followers = users.filter((u) => c.ownerNode(u) === y).slice(0, 150);
    expect(followers.length).toBe(150);
    for (const f of followers) {
      const cl = new ClusterClient(c.portOf, 'web');
      await cl.login({ userID: f });
      await cl.subscribeUserStatus({ userIDList: [b] });
    }
    const fa = new ClusterClient(c.portOf, 'web');
    await fa.login({ userID: users.filter((u) => c.ownerNode(u) === y)[150]! });
    await fa.subscribeUserStatus({ userIDList: [a] });
    await c.settle();

    // x stops answering the followers' fetches: each one fails only when the forward timeout passes.
    let fetches = 0;
    const fetch = y.runtime.fetch.bind(y.runtime);
    y.runtime.fetch = (viewer, list) => {
      if (!followers.includes(viewer)) return fetch(viewer, list);
      fetches++;
      return new Promise((_, reject) => c.clock.setTimeout(() => reject(new Error(`no reply in ${TIMEOUT} ms (test)`)), TIMEOUT));
    };
    let done = false;
    void (y.runtime as unknown as Resyncing).resync(x.shardOf(b)).then(() => (done = true));
    // A resync of a's shard asked for while b's pass hangs does not wait for it (its pushes would be held).
    for (let i = 0; i < 3; i++) await turn();
    let aDone = false;
    void (y.runtime as unknown as Resyncing).resync(x.shardOf(a)).then(() => (aDone = true));
    for (let i = 0; i < 10 && !aDone; i++) await turn();
    expect(aDone).toBe(true);
    expect(done).toBe(false);
    let timeouts = 0;
    for (; timeouts < 200 && !done; timeouts++) {
      for (let i = 0; i < 5; i++) await turn();
      if (done) break;
      c.clock.increment(TIMEOUT);
    }
    expect(fetches).toBe(150);
    expect(timeouts).toBeLessThanOrEqual(3);
    // Each is tried again a round later (and left to its client after RESUME_TRIES).
    expect(y.runtime.counts.resyncRetries).toBe(150);
  });
});
