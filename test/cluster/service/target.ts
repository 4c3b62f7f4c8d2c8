// The behavioural suite's target on a cluster of ClusterServices: each client's calls go to the node that
// owns its user's shard (as the front-end relays it), admin calls through ClusterAdmin of rotating nodes,
// so that subscriptions and friend lists cross nodes (most users' counterparts live on another node).
import { DEFAULT_SETTINGS } from '../../../src/conformance/targets/settings';
import type { AdminOps, Target } from '../../../src/conformance/target';
import { ClusterClient } from './client';
import { startCluster, type BackendFactory } from './harness';

export async function clusterTarget(name: string, n: number, make: BackendFactory, close?: () => Promise<void>): Promise<Target> {
  const c = await startCluster(n, make, { autoTick: true });
  let r = 0;
  const admin = () => c.nodes[r++ % c.nodes.length]!.admin;
  const ops: AdminOps = {
    register: (ids) => admin().registerUsers(ids),
    addFriends: (u, ids) => admin().changeFriends(u, ids, true),
    removeFriends: (u, ids) => admin().changeFriends(u, ids, false),
    configure: (change) => admin().configure(change),
    queryStatus: (ids) => admin().queryStatus(ids, undefined),
  };
  let k = 0;
  return {
    name,
    admin: ops,
    client: (platform) => new ClusterClient(c.portOf, platform ?? 'web'),
    userSig: () => '',
    advance: (ms) => c.advance(ms),
    settle: () => c.settle(),
    linkSlackMs: 0,
    dropConnections: async (_userID, clients) => {
      for (const cl of clients) cl.disconnect('link_closed');
      for (const cl of clients) await cl.reconnect();
    },
    prefix: () => `t${++k}_`,
    reset: async () => {
      await c.nodes[0]!.admin.configure(DEFAULT_SETTINGS);
    },
    close: async () => {
      // The suite must have crossed nodes: changes pushed to another node, facts fetched from one.
      const pushed = c.nodes.reduce((n, s) => n + s.runtime.counts.pushesDelivered, 0);
      await c.close();
      if (pushed === 0) throw new Error('no change crossed nodes: the cluster target did not spread the users');
      await close?.();
    },
  };
}
