// NTF-6 "each change once" across a failover (memory backend, simulated clock): after a node dies and its
// shards are rebuilt elsewhere (a new push chain: receivers resync by versions, clients of the dead node
// resume on the new owner), no device is handed the same version of a user twice, and every device ends at
// the current version of each user it follows (nothing left behind).
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceHandle } from '../../../src/engine/port';
import type { UserStatus } from '../../../src/records';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE_MS = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

/** A client whose every status push is recorded as `user@version`. */
function recorded(portOf: ConstructorParameters<typeof ClusterClient>[0]) {
  const cl = new ClusterClient(portOf, 'web');
  const got: string[] = [];
  const last = new Map<string, number>();
  cl.on('onUserStatusUpdated', (e) => {
    for (const s of e.data as UserStatus[]) {
      got.push(`${s.userID}@${s.version}`);
      last.set(s.userID, Math.max(last.get(s.userID) ?? -1, s.version));
    }
  });
  return { cl, got, last, session: undefined as DeviceHandle | undefined };
}

const twice = (got: string[]) => got.filter((x, i) => got.indexOf(x) !== i);

describe('each change once across a failover (memory backend, 3 nodes)', () => {
  it.each(['halt', 'freeze'] as const)('after %s of a node and the takeover: no version twice, every device at the truth', async (how) => {
    c = await startCluster(3, memoryBackends(LEASE_MS).make, { autoTick: true, snapshot: { everyCommands: 4, retain: 100_000 } });
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const victim = c.nodes[1]!;
    const onVictim = users.filter((u) => c.ownerNode(u) === victim).slice(0, 2);
    const others = users.filter((u) => c.ownerNode(u) !== victim).slice(0, 4);
    const all = [...onVictim, ...others];
    let victimPort = victim.port;
    const devices = new Map(all.map((u) => [u, recorded(onVictim.includes(u) ? () => victimPort : c.portOf)]));
    for (const u of all) await devices.get(u)!.cl.login({ userID: u });
    // Everyone follows everyone else.
    for (const u of all) await devices.get(u)!.cl.subscribeUserStatus({ userIDList: all.filter((x) => x !== u) });
    for (const u of all) await devices.get(u)!.cl.setSelfStatus({ customStatus: `${u}-1` });
    await c.settle();

    // One client of the victim lost its socket just before (its device is offline in the log): it comes back
    // on a new socket, with what it holds (as the remote client resumes), and its own status changes again.
    const dropped = onVictim[1]!;
    devices.get(dropped)!.cl.disconnect('link_closed');
    await c.settle();
    if (how === 'halt') victim.runtime.halt();
    else victim.runtime.node.freeze();
    for (const u of others) await devices.get(u)!.cl.setSelfStatus({ customStatus: `${u}-2` });
    await c.advance(3 * LEASE_MS, 1000);
    // The clients of the dead node come back on the new owner of their shard.
    const owner = c.nodes.find((n) => n !== victim && n.runtime.engines.has(victim.shardOf(onVictim[0]!)))!;
    victimPort = owner.port;
    await devices.get(onVictim[0]!)!.cl.reconnect();
    {
      // A new socket: a new session adopts the device with the client's own record of what it heard.
      const old = devices.get(dropped)!;
      const held = { lastSeq: 0, versions: Object.fromEntries(old.last) };
      const s = owner.port.openSession('web', (e) => {
        if (e.name !== 'onUserStatusUpdated') return;
        for (const st of e.data as UserStatus[]) {
          old.got.push(`${st.userID}@${st.version}`);
          old.last.set(st.userID, Math.max(old.last.get(st.userID) ?? -1, st.version));
        }
      }, old.cl.deviceId);
      await owner.port.prepare('adopt', s, dropped);
      await owner.port.acknowledge(owner.port.adopt(s, dropped, held));
      old.session = s;
    }
    await c.settle();
    for (const u of all) if (u !== dropped) await devices.get(u)!.cl.setSelfStatus({ customStatus: `${u}-3` });
    {
      const s = devices.get(dropped)!.session!;
      await owner.port.acknowledge(owner.port.setSelfStatus(s, { customStatus: `${dropped}-3` }));
    }
    await c.settle();
    await c.advance(2000, 500);

    for (const u of all) expect({ u, twice: twice(devices.get(u)!.got) }).toEqual({ u, twice: [] });
    // The truth: each user's version at its owner now.
    const truth = new Map((await c.nodes[0]!.admin.queryStatus(all, undefined)).map((s) => [s.userID, s.version]));
    for (const u of all) {
      for (const x of all) if (x !== u) expect({ u, x, v: devices.get(u)!.last.get(x) }).toEqual({ u, x, v: truth.get(x) });
    }
  });
});
