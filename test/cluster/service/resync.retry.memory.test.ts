// NTF-1 / EXT-2 after a hole in a shard's pushes (memory backend, simulated clock, 3 nodes): the receiving node
// resumes its devices that hear of that shard by versions, which first fetches the facts from the shard's owner.
// The push that showed the hole is not delivered (the resume replaces it), so if that fetch fails (the node asked
// no longer owns the shard, a peer or Redis away) nothing else would bring the change: the device is tried again a
// round later until its resume lands.
import { afterEach, describe, expect, it } from 'vitest';
import { follower } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

type Node = Cluster['nodes'][number];
type Resyncing = { resync: (shard: number) => Promise<void> };

describe('a resync whose facts fetch fails (memory backend, 3 nodes)', () => {
  it('NTF-1: the device is resumed a round later, and hears the change once', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make);
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Node, Node, Node];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const s = users.find((u) => c.ownerNode(u) === y)!;

    const { cb, heard: got } = await follower(c.portOf, b, s);
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    expect(got).toEqual(['b1']);

    // b2's push to y is lost on the way (as across a Redis disconnect) ...
    const rt = y.runtime as unknown as { deliver: (body: unknown) => void };
    const deliver = rt.deliver.bind(y.runtime);
    let dropped = 0;
    rt.deliver = (body) => {
      if (dropped++ === 0) return;
      deliver(body);
    };
    await cb.setSelfStatus({ customStatus: 'b2' });
    await c.settle();
    expect(got).toEqual(['b1']);
    rt.deliver = deliver;

    // ... y finds the hole and resyncs, but its first facts fetch fails.
    const fetch = y.runtime.fetch.bind(y.runtime);
    let failures = 0;
    y.runtime.fetch = async (viewer, list) => {
      if (failures++ === 0) throw new Error('peer away');
      return fetch(viewer, list);
    };
    await (y.runtime as unknown as Resyncing).resync(x.shardOf(b));
    await c.settle();
    expect(failures).toBe(1);
    expect(got).toEqual(['b1']);

    await c.advance(y.runtime.node.tickMs);
    expect(got).toEqual(['b1', 'b2']);
    expect(y.runtime.counts.resyncRetries).toBe(1);
    await c.advance(10 * y.runtime.node.tickMs, y.runtime.node.tickMs);
    expect(got).toEqual(['b1', 'b2']); // once
  });
});
