// NTF-6 / EXT-2 over 3 in-process nodes (memory backend, simulated clock): a resume on a new socket while the
// device's session is still receiving. What the chaos smoke saw after `kill -9` of Redis and restart: a client
// whose call went unanswered while Redis was away gives up on its socket (the server has not noticed yet) and
// resumes on a new one; the hub binds the device to the new socket at once, then the resume is prepared (facts
// fetched from other nodes, slow while the cluster recovers). A change handed to the session meanwhile goes out
// on the new socket and arrives; the client's versions, taken when it sent the resume, do not have it. The
// resume then took those versions as all the device holds and handed that change again: a duplicate.
import { afterEach, describe, expect, it } from 'vitest';
import type { ResumePoint } from '../../../src/engine/port';
import type { UserStatus } from '../../../src/records';
import { ClusterClient } from './client';
import { aliceAndBobApart, memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

/** 3 nodes, 60 users: alice as a session on her owner's port, logged in and subscribed to bob (whose shard another
 * node owns; his client logged in). `hear` gets each status of another user handed to alice's session. */
async function aliceFollowsBob(hear: (s: UserStatus) => void) {
  c = await startCluster(3, memoryBackends(3_600_000).make);
  const { alice, node, bob } = await aliceAndBobApart(c);
  const cb = new ClusterClient(c.portOf, 'web');
  await cb.login({ userID: bob });
  const sa = node.port.openSession('web', (e) => {
    if (e.name !== 'onUserStatusUpdated') return;
    for (const s of e.data as UserStatus[]) if (s.userID !== alice) hear(s);
  });
  await node.port.prepare('login', sa, alice);
  await node.port.acknowledge(node.port.login(sa, alice));
  const sub = { userIDList: [bob] };
  await node.port.prepare('subscribe', sa, sub);
  await node.port.acknowledge(node.port.subscribe(sa, sub));
  return { node, sa, cb, alice, bob };
}

describe('a resume prepared while the session still receives (memory backend, 3 nodes)', () => {
  it('NTF-6: a change handed to the new socket during the resume is not handed again by it', async () => {
    // alice's client: `socket` says which socket a push went out on (the hub's binding); only the current one's arrive.
    let socket: 'old' | 'dead' | 'new' = 'old';
    const heard: string[] = [];
    const versions: Record<string, number> = {};
    const { node, sa, cb } = await aliceFollowsBob((s) => {
      if (socket === 'dead') return;
      heard.push(`${s.userID}@${s.version}=${s.customStatus}`);
      versions[s.userID] = s.version;
    });
    await cb.setSelfStatus({ customStatus: 'before' });
    await c.settle();
    expect(heard.map((h) => h.split('=')[1])).toEqual(['before']);

    // The client gave up on its socket; the server still thinks it alive and hands it a change that never arrives.
    socket = 'dead';
    await cb.setSelfStatus({ customStatus: 'lost' });
    await c.settle();

    // The new socket's resume: bound at once (pushes go out on it from now on), its facts fetched slowly.
    const held: ResumePoint = { lastSeq: 0, versions: { ...versions } };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = node.runtime.fetch.bind(node.runtime);
    node.runtime.fetch = async (viewer, us) => {
      await gate;
      return fetch(viewer, us);
    };
    socket = 'new';
    const prepared = node.port.prepare('reconnect', sa, held);
    await cb.setSelfStatus({ customStatus: 'during' }); // handed to the session, out on the new socket: it arrives
    await c.settle();
    expect(heard.at(-1)).toMatch(/=during$/);
    release();
    await prepared;
    node.runtime.fetch = fetch;
    await node.port.acknowledge(node.port.reconnect(sa, held));
    await c.settle();

    // Each version once: 'during' was heard on the new socket and is not handed again ('lost' is older: skipped).
    const dupes = heard.filter((h, i) => heard.indexOf(h) !== i);
    expect(dupes).toEqual([]);
    expect(heard.map((h) => h.split('=')[1])).toEqual(['before', 'during']);

    // And still nothing left behind: a later change arrives once.
    await cb.setSelfStatus({ customStatus: 'after' });
    await c.settle();
    expect(heard.map((h) => h.split('=')[1])).toEqual(['before', 'during', 'after']);
  });

  it('EXT-2: a change made between the resume\'s fetched facts and its call is not left behind', async () => {
    const heard: string[] = [];
    const versions: Record<string, number> = {};
    const { node, sa, cb } = await aliceFollowsBob((s) => {
      heard.push(s.customStatus);
      versions[s.userID] = s.version;
    });
    await cb.setSelfStatus({ customStatus: 'before' });
    await c.settle();
    // The link goes silent (nothing is handed to it), a change is missed meanwhile.
    node.port.linkEvent(sa, { type: 'LINK.SILENT' });
    await c.settle();
    await cb.setSelfStatus({ customStatus: 'away' });
    await c.settle();
    // The resume's facts are fetched; before its call runs, bob changes again (the push reaches this node while
    // the link is still silent: not handed to it).
    const held: ResumePoint = { lastSeq: 0, versions: { ...versions } };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = node.runtime.fetch.bind(node.runtime);
    node.runtime.fetch = async (viewer, us) => {
      await fetch(viewer, us);
      await gate;
    };
    const prepared = node.port.prepare('reconnect', sa, held);
    await c.settle();
    await cb.setSelfStatus({ customStatus: 'between' });
    await c.settle();
    release();
    await prepared;
    node.runtime.fetch = fetch;
    await node.port.acknowledge(node.port.reconnect(sa, held));
    await c.settle();
    // The resume brings the current status (not the one its facts had), once.
    expect(heard).toEqual(['before', 'between']);
  });
});
