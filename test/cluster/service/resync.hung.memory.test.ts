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
  it('NTF-1: 150 devices are resumed a batch at a time: the pass takes 3 forward timeouts, not 150', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false, forwardTimeoutMs: TIMEOUT });
    const users = Array.from({ length: 600 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Cluster['nodes'][number], Cluster['nodes'][number]];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const followers = users.filter((u) => c.ownerNode(u) === y).slice(0, 150);
    expect(followers.length).toBe(150);
    for (const f of followers) {
      const cl = new ClusterClient(c.portOf, 'web');
      await cl.login({ userID: f });
      await cl.subscribeUserStatus({ userIDList: [b] });
    }
    await c.settle();

    // x stops answering y's fetches: each one fails only when the forward timeout passes.
    let fetches = 0;
    y.runtime.fetch = () => {
      fetches++;
      return new Promise((_, reject) => c.clock.setTimeout(() => reject(new Error(`no reply in ${TIMEOUT} ms (test)`)), TIMEOUT));
    };
    let done = false;
    void (y.runtime as unknown as Resyncing).resync(x.shardOf(b)).then(() => (done = true));
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
