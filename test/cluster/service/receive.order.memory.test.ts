// NTF-6 on the receiving node (memory backend, 3 nodes): a push is delivered in the bus message's own turn,
// except while its shard's pushes wait for a resync (a hole was found): then the later pushes queue behind it,
// and none of them reaches a device before the resync is done.
import { afterEach, describe, expect, it } from 'vitest';
import { follower } from './client';
import { memoryBackends, startCluster, turn, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

type Node = Cluster['nodes'][number];
type Resyncing = { resync: (shard: number) => Promise<void> };
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await turn();
};

describe('pushes received while a shard resyncs (memory backend, 3 nodes)', () => {
  it('NTF-6: the pushes after a hole wait for the resync, then come in order, once', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Node, Node, Node];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const s = users.find((u) => c.ownerNode(u) === y)!;
    const { cb, sub, heard } = await follower(c.portOf, b, s);
    const order: string[] = [];
    sub.on('onUserStatusUpdated', (e) => {
      for (const st of e.data as Array<{ userID: string; customStatus: string }>) if (st.userID === b) order.push(st.customStatus);
    });
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    expect(heard).toEqual(['b1']);

    // y's resync of b's shard is held until released.
    const rt = y.runtime as unknown as Resyncing;
    const resync = rt.resync.bind(y.runtime);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    rt.resync = async (shard) => {
      order.push('resync');
      await gate;
      await resync(shard);
      order.push('resynced');
    };
    // b2's push is lost on the way (PUB/SUB is at most once): b3's shows the hole.
    const bus = c.backends[c.nodes.indexOf(x)]!.bus;
    const publish = bus.publish.bind(bus);
    let drop = true;
    bus.publish = async (node, message) => {
      if (drop && message.startsWith('["P"')) {
        drop = false;
        return 0;
      }
      return publish(node, message);
    };
    await cb.setSelfStatus({ customStatus: 'b2' });
    await cb.setSelfStatus({ customStatus: 'b3' });
    await turns(20);
    expect(order).toEqual(['b1', 'resync']);
    await cb.setSelfStatus({ customStatus: 'b4' });
    await cb.setSelfStatus({ customStatus: 'b5' });
    await turns(20);
    expect(y.runtime.counts.pushesReceived).toBeGreaterThanOrEqual(3); // b3, b4, b5 reached y ...
    expect(order).toEqual(['b1', 'resync']); // ... and wait
    expect(y.runtime.busy()).toBe(true);

    release();
    await c.settle();
    // Resumed by versions (the current state, b5), then the queued pushes: each older or the same, so not again.
    expect(order).toEqual(['b1', 'resync', 'b5', 'resynced']);
    expect(heard).toEqual(['b1', 'b5']);
    await cb.setSelfStatus({ customStatus: 'b6' });
    await c.settle();
    expect(heard).toEqual(['b1', 'b5', 'b6']); // and live again, at once
    expect(y.runtime.counts.resyncs).toBe(1);
  });
});
