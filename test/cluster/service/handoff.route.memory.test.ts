// NTF-6 across a change of owner (memory backend, simulated clock, 3 nodes): a node that took a shard tells
// every other node at once, ahead of anything else it sends them, so a sender whose own round has not run yet
// routes that shard's deliveries to the new owner, not to the previous one (which drops them: its devices are
// gone). A device that came to the new owner hears the sender's next change live, without waiting for the
// resync two rounds after the takeover (no simulated time passes here after the change).
import { afterEach, describe, expect, it } from 'vitest';
import type { UserStatus } from '../../../src/records';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, turn, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

function recorded(portOf: ConstructorParameters<typeof ClusterClient>[0]) {
  const cl = new ClusterClient(portOf, 'web');
  const got: string[] = [];
  cl.on('onUserStatusUpdated', (e) => {
    for (const s of e.data as UserStatus[]) got.push(`${s.userID}=${s.customStatus}`);
  });
  return { cl, got };
}

/** Holds every round of node `n` (its view of the owners stays as it is) until the returned function is called. */
function holdRounds(n: Cluster['nodes'][number]): () => void {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const tick = n.runtime.node.tick.bind(n.runtime.node);
  n.runtime.node.tick = () => gate.then(tick);
  return open;
}

describe('deliveries after a change of owner go to the new owner (memory backend, 3 nodes)', () => {
  it('NTF-6: after a takeover (the old owner dead): the sender, its round held, routes to the node that took the shard', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false });
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, victim, y] = c.nodes as [Cluster['nodes'][number], Cluster['nodes'][number], Cluster['nodes'][number]];
    const b = users.find((u) => c.ownerNode(u) === x)!;
    const cb = new ClusterClient(c.portOf, 'web');
    await cb.login({ userID: b });
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    victim.runtime.halt();
    c.clock.increment(LEASE / 2);
    await Promise.all([x.runtime.node.tick(), y.runtime.node.tick()]); // x and y renew; the victim does not
    c.clock.increment(LEASE / 2 + 1);
    const release = holdRounds(x);
    await y.runtime.node.tick(); // y takes the victim's shards
    for (let i = 0; i < 20; i++) await turn();
    const s = users.find((u) => victim.runtime.node.shard(victim.shardOf(u)) !== undefined && y.runtime.engines.has(y.shardOf(u)))!;
    expect(s).toBeDefined();
    const sub = recorded(() => y.port);
    await sub.cl.login({ userID: s });
    await sub.cl.subscribeUserStatus({ userIDList: [b] });
    await cb.setSelfStatus({ customStatus: 'b2' });
    await c.settle();
    expect(sub.got.filter((g) => g.startsWith(`${b}=`))).toEqual([`${b}=b2`]);
    release();
    await c.settle();
  });

  it('NTF-6: after a graceful handoff (a node joins): the sender, its round held, routes to the node that took the shard', async () => {
    c = await startCluster(2, memoryBackends(3_600_000).make, { autoTick: false });
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, o] = c.nodes as [Cluster['nodes'][number], Cluster['nodes'][number]];
    const ofO = new Set(o.health().shards);
    const release = holdRounds(x); // x does not see the new node until told
    const n = await c.add('n3'); // o hands some of its shards to n at once; x's rounds wait
    for (let i = 0; i < 20; i++) await turn();
    // b: a user of a shard x keeps (by everyone's view); s: a user of a shard o handed to n.
    const b = users.find((u) => x.runtime.engines.has(x.shardOf(u)) && n.runtime.ownerOfShard(n.shardOf(u)) === x.nodeId)!;
    const s = users.find((u) => n.runtime.engines.has(n.shardOf(u)) && ofO.has(n.shardOf(u)));
    expect(b).toBeDefined();
    expect(s).toBeDefined();
    const cb = new ClusterClient(() => x.port, 'web');
    await cb.login({ userID: b });
    await cb.setSelfStatus({ customStatus: 'b1' });
    await c.settle();
    const sub = recorded(() => n.port);
    await sub.cl.login({ userID: s! });
    await sub.cl.subscribeUserStatus({ userIDList: [b] });
    await cb.setSelfStatus({ customStatus: 'b2' });
    await c.settle();
    expect(sub.got.filter((g) => g.startsWith(`${b}=`))).toEqual([`${b}=b2`]);
    release();
    await c.settle();
  });
});
