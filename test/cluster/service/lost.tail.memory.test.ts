// NTF-1 across a failover (memory backend, simulated clock, 3 nodes): a change that landed in the log while its
// pushes were lost with its owner (it froze or died between the append and the PUBLISH) and that nothing follows.
// A receiver found such a hole only at the next push of the shard's chain to it; the new owner's chain might never
// send it one (no later change with recipients there), so the subscriber kept the old view for good: the chaos
// smoke's "SIGSTOP longer than the lease", one view a version behind the truth 10 s after the load stopped. The new
// owner now starts its chain at every node when it takes the shard (ChainStart), and the nodes that followed the
// old chain resync the devices that hear of the shard.
import { afterEach, describe, expect, it } from 'vitest';
import { follower } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

type Node = Cluster['nodes'][number];

describe('pushes lost with their owner at the tail of its chain (memory backend, 3 nodes)', () => {
  it('NTF-1: the subscriber on another node hears the last change once the shard has a new owner, with no change after it', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false });
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Node, Node, Node];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const s = users.find((u) => c.ownerNode(u) === y)!;

    const { cb, heard } = await follower(c.portOf, b, s);
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    expect(heard).toEqual(['b1']); // y follows x's chain of pushes for b's shard

    // x's pushes to y are lost from here on (what a freeze or a kill -9 between the append and the PUBLISH does).
    const bus = c.backends[c.nodes.indexOf(x)]!.bus;
    const publish = bus.publish.bind(bus);
    const toY = y.runtime.o.nodeId;
    bus.publish = async (channel, message) => (channel === toY && message.startsWith('["P"') ? 0 : publish(channel, message));
    await cb.setSelfStatus({ customStatus: 'b2' }); // acknowledged: it is in the log
    await c.settle();
    expect(heard).toEqual(['b1']);

    // x goes (its shards handed over); nobody changes b again.
    await x.runtime.node.stop();
    await c.advance(LEASE, LEASE / 10);
    await c.settle();
    expect(c.ownerNode(b)).not.toBe(x);
    expect(heard).toEqual(['b1', 'b2']);
  });
});
