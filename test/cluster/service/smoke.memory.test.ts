// Three ClusterServices over the in-memory backend: the basics of the node side, before the whole suite.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCode } from '../../../src/cluster/errors';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, turn, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

describe('cluster service (memory backend, 3 nodes)', () => {
  it('spreads the shards over the nodes, one owner each', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const owned = c.nodes.map((s) => s.health().shards);
    expect(owned.every((o) => o.length > 0)).toBe(true);
    expect(owned.flat().sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
  });

  it('a change reaches a subscriber whose shard is on another node, once, after it is durable', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const b = users.find((u) => c.ownerNode(u) !== c.ownerNode(a))!;
    const ca = new ClusterClient(c.portOf, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: unknown[] = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data));
    await cb.subscribeUserStatus({ userIDList: [a] });
    await ca.setSelfStatus({ customStatus: 'hello' });
    await c.settle();
    expect(heard).toMatchObject([{ userID: a, customStatus: 'hello' }]);
    const r = await cb.getUserStatus({ userIDList: [a] });
    expect(r.data.successUserList).toMatchObject([{ userID: a, customStatus: 'hello' }]);
  });

  it('a push lost between nodes: the next one shows the hole, the receiver resyncs its devices (current state, once)', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const from = c.ownerNode(a);
    const b = users.find((u) => c.ownerNode(u) !== from)!;
    const ca = new ClusterClient(c.portOf, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: string[] = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data.filter((x) => x.userID === a).map((x) => x.customStatus)));
    await cb.subscribeUserStatus({ userIDList: [a] });
    await ca.setSelfStatus({ customStatus: 's0' });
    await c.settle();
    // The next push from a's node is lost on the way (PUB/SUB is at most once).
    const bus = c.backends[c.nodes.indexOf(from)]!.bus;
    const publish = bus.publish.bind(bus);
    let drop = true;
    bus.publish = async (node, message) => {
      if (drop && message.startsWith('["P"')) {
        drop = false;
        return 0;
      }
      return publish(node, message);
    };
    await ca.setSelfStatus({ customStatus: 's1' });
    await c.settle();
    expect(heard).toEqual(['s0']);
    await ca.setSelfStatus({ customStatus: 's2' });
    await c.settle();
    const receiver = c.ownerNode(b).runtime.counts;
    expect(receiver.resyncs).toBe(1);
    // Resumed by versions: the current state once (s1 is history, s2 is now), nothing twice.
    expect(heard).toEqual(['s0', 's2']);
  });

  it('a read of another node user that was not prepared fails with 75008, and prepared it works', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const b = users.find((u) => c.ownerNode(u) !== c.ownerNode(a))!;
    const port = c.ownerNode(a).port;
    const s = port.openSession('web', () => {});
    await port.prepare('login', s, a);
    port.login(s, a);
    await port.acknowledge(undefined);
    expect(() => port.getUserStatus(s, { userIDList: [b] })).toThrow(expect.objectContaining({ code: 75008 }));
    await port.prepare('getUserStatus', s, { userIDList: [b] });
    expect(port.getUserStatus(s, { userIDList: [b] }).successUserList).toMatchObject([{ userID: b }]);
    // And a user of a shard this node does not own is refused at login: the front-end relays the client.
    const other = c.ownerNode(b).nodeId;
    expect(() => port.login(port.openSession('web', () => {}), b)).toThrow(expect.objectContaining({ code: 75006, message: expect.stringContaining(other) }));
  });

  it('settings reach every shard, and a shard taken over later has them (in its log)', async () => {
    c = await startCluster(3, memoryBackends(10_000).make, { autoTick: true });
    await c.nodes[2]!.admin.configure({ limits: { queryMaxUsers: 7 } });
    for (const n of c.nodes) for (const e of n.runtime.engines.values()) expect(e.core.limits.queryMaxUsers).toBe(7);
    const victim = c.nodes[1]!;
    const shards = victim.health().shards;
    victim.runtime.halt();
    await c.advance(30_000, 1000);
    for (const s of shards) {
      const owner = c.nodes.find((n) => n !== victim && n.runtime.engines.has(s))!;
      expect(owner.runtime.engines.get(s)!.core.limits.queryMaxUsers).toBe(7);
    }
    expect(await c.nodes[0]!.admin.settings()).toMatchObject({ limits: { queryMaxUsers: 7 } });
  });

  it('deliveries leave only once their command is durable, and never if its append fails', async () => {
    const mem = memoryBackends(3_600_000);
    let hold: Array<() => void> | null = null;
    let refuse = false;
    c = await startCluster(3, async (clock) => {
      const b = await mem.make(clock);
      const append = b.log.append.bind(b.log);
      b.log.append = async (...args) => {
        if (hold !== null) await new Promise<void>((r) => hold!.push(r));
        if (refuse) throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'redis is away (test)');
        return append(...args);
      };
      return b;
    });
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const b = users.find((u) => c.ownerNode(u) !== c.ownerNode(a))!;
    const ca = new ClusterClient(c.portOf, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: string[] = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data.filter((x) => x.userID === a).map((x) => x.customStatus)));
    await cb.subscribeUserStatus({ userIDList: [a] });

    hold = [];
    let acked = false;
    const set = ca.setSelfStatus({ customStatus: 'held' }).then(() => (acked = true));
    for (let i = 0; i < 20; i++) await turn(); // (settle would wait for the held append)
    expect(hold.length).toBe(1); // the append is in flight: not acknowledged, nothing delivered
    expect(acked).toBe(false);
    expect(heard).toEqual([]);
    const release = hold;
    hold = null;
    release.forEach((r) => r());
    await set;
    await c.settle();
    expect(heard).toEqual(['held']);

    refuse = true;
    const err = (await ca.setSelfStatus({ customStatus: 'lost' }).catch((e: unknown) => e)) as { code: number };
    await c.settle();
    expect(err.code).toBe(75001);
    expect(heard).toEqual(['held']);
    // The engine was dropped (its memory was ahead of the log) and is rebuilt from the log once appends pass.
    refuse = false;
    await c.ownerNode(a).runtime.node.tick();
    await c.settle();
    expect((await c.nodes[0]!.admin.queryStatus([a], undefined))[0]!.customStatus).toBe('held');
    // ca's session belonged to the dropped engine: refused until it comes back (its front-end closes it on
    // onShardLost; here it logs in again, which adopts the device into the rebuilt engine).
    expect(((await ca.setSelfStatus({ customStatus: 'x' }).catch((e: unknown) => e)) as { code: number }).code).toBe(75006);
    expect((await ca.login({ userID: a })).data.repeatLogin).toBe(true);
    await ca.setSelfStatus({ customStatus: 'again' });
    await c.settle();
    expect(heard).toEqual(['held', 'again']);
  });

  it('stop leaves nothing waiting: a forwarded call still unanswered fails at once (no timer outlives the node)', async () => {
    c = await startCluster(2, memoryBackends(3_600_000).make);
    const [n1, n2] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    n2.runtime.halt(); // answers nothing any more
    const shard = n2.health().shards[0]!;
    const asked = n1.runtime.forwarder.request('n2', shard, { op: 'rebalance' }).catch((e: { code: number }) => e.code);
    for (let i = 0; i < 10; i++) await turn(); // (settle would wait for the answer)
    expect(n1.runtime.forwarder.pending).toBe(1);
    await n1.stop();
    expect(await asked).toBe(75006);
    expect(n1.runtime.forwarder.pending).toBe(0);
  });
});
