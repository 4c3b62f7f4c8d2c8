// NTF-1 across a handoff (memory backend, simulated clock, 3 nodes): a change whose append was in flight when
// its node let the shard go becomes durable after the engine was dropped, and its deliveries leave then. They
// continue that engine's chain of pushes, so the receiver delivers them as the next ones. They used to leave
// under a chain of their own ('gone'), which the receiver took for a new owner: it resynced instead of
// delivering, fetching the facts from the node it still thought the owner, which no longer was and refused. The
// resync failed, the push was dropped, and nothing later brought the change (the chaos smoke's "SIGSTOP longer
// than the lease": one view one version behind the truth after the handoff back to the woken node).
import { afterEach, describe, expect, it } from 'vitest';
import { follower } from './client';
import { memoryBackends, startCluster, turn, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

type Node = Cluster['nodes'][number];

/** Holds every round of node `n` (its view of the owners stays as it is) until the returned function is called. */
function holdRounds(n: Node): () => void {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const tick = n.runtime.node.tick.bind(n.runtime.node);
  n.runtime.node.tick = () => gate.then(tick);
  return open;
}

describe('a change made durable after its engine let the shard go (memory backend, 3 nodes)', () => {
  it('NTF-1: its deliveries reach the subscriber on another node, though no node owns the shard yet', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false });
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y, z] = c.nodes as [Node, Node, Node];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const s = users.find((u) => c.ownerNode(u) === y)!;
    const sb = x.shardOf(b);

    const { cb, heard: got } = await follower(c.portOf, b, s);
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    expect(got).toEqual(['b1']); // y follows x's chain of pushes for b's shard

    // b's next change: its append to b's shard is in the log, its answer held in flight.
    const log = c.backends[c.nodes.indexOf(x)]!.log;
    const append = log.append.bind(log);
    let land!: () => void;
    const landed = new Promise<void>((r) => (land = r));
    log.append = async (shard, ...rest) => {
      const head = await append(shard, ...rest); // in the log (Redis ran it) ...
      if (shard === sb) await landed; // ... and its answer held
      return head;
    };
    const set = cb.setSelfStatus({ customStatus: 'b2' }).catch((e: Error) => e);
    for (let i = 0; i < 5; i++) await turn();

    // x lets every shard go (SIGTERM's handoff); the others' rounds are held, so nobody owns b's shard yet and
    // y still thinks x does.
    const openY = holdRounds(y);
    const openZ = holdRounds(z);
    await x.runtime.node.stop();
    expect(x.runtime.engines.has(sb)).toBe(false);
    land(); // the answer arrives: the dropped engine's deliveries leave now
    expect(await set).not.toBeInstanceOf(Error); // acknowledged: it is in the log
    await c.settle();
    expect(got).toEqual(['b1', 'b2']);
    expect(y.runtime.counts.resyncs).toBe(0); // delivered as the chain's next push

    // And nothing changes once the others take the shards and resync.
    openY();
    openZ();
    await Promise.all([y.runtime.node.tick(), z.runtime.node.tick()]);
    await c.advance(LEASE, LEASE / 10);
    expect(got).toEqual(['b1', 'b2']);
  });
});
