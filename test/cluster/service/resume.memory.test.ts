// EXT-2 over 3 in-process nodes (memory backend, simulated clock), on the path a served cluster takes after a
// network loss: the owner still thinks the socket alive and hands it pushes that never arrive; the client
// comes back on a new socket and the hub reconnects the device's session with the client's own record.
import { afterEach, describe, expect, it } from 'vitest';
import type { ResumePoint } from '../../../src/engine/port';
import type { UserStatus } from '../../../src/records';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

describe('EXT-2 resume after a network loss (memory backend, 3 nodes)', () => {
  it('brings the changes of a followed user the device holds no version of, as well as newer versions, once', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    // alice, bob and carol each on another node, as the multi-process suite may place them.
    const alice = users[0]!;
    const bob = users.find((u) => c.ownerNode(u) !== c.ownerNode(alice))!;
    const carol = users.find((u) => c.ownerNode(u) !== c.ownerNode(alice) && c.ownerNode(u) !== c.ownerNode(bob))!;
    const [cb, cc] = [new ClusterClient(c.portOf, 'web'), new ClusterClient(c.portOf, 'web')];
    // What reaches alice's client (nothing while its network is lost), and the versions it holds. Its session
    // lives at its owner, as a served node's hub keeps it.
    let lost = false;
    const got: string[] = [];
    const versions: Record<string, number> = {};
    const node = c.ownerNode(alice);
    const sa = node.port.openSession('web', (e) => {
      if (lost || e.name !== 'onUserStatusUpdated') return;
      for (const s of e.data as UserStatus[]) {
        if (s.userID !== alice) got.push(`${s.userID}=${s.customStatus}`);
        versions[s.userID] = s.version;
      }
    });
    await node.port.prepare('login', sa, alice);
    await node.port.acknowledge(node.port.login(sa, alice));
    await cb.login({ userID: bob });
    await cc.login({ userID: carol });
    await c.settle();
    const subscription = { userIDList: [bob, carol] };
    await node.port.prepare('subscribe', sa, subscription);
    await node.port.acknowledge(node.port.subscribe(sa, subscription));
    await cb.setSelfStatus({ customStatus: 'before' });
    await c.settle();
    expect(got).toEqual([`${bob}=before`]);
    got.length = 0;

    lost = true; // the owner is not told: it goes on handing pushes to the session
    for (const s of ['one', 'two', 'three']) await cb.setSelfStatus({ customStatus: s });
    await cc.setSelfStatus({ customStatus: 'c1' });
    await c.settle();
    lost = false;
    // A new socket: the hub finds the device's session and reconnects it with what the client holds.
    const held: ResumePoint = { lastSeq: 0, versions: { ...versions } };
    await node.port.prepare('reconnect', sa, held);
    await node.port.acknowledge(node.port.reconnect(sa, held));
    await c.settle();
    expect(got).toEqual([`${bob}=three`, `${carol}=c1`]);

    // Nothing missed since: a second resume sends nothing again.
    got.length = 0;
    const again: ResumePoint = { lastSeq: 0, versions: { ...versions } };
    await node.port.prepare('reconnect', sa, again);
    await node.port.acknowledge(node.port.reconnect(sa, again));
    await c.settle();
    expect(got).toEqual([]);
  });
});
