// The behavioural suite's target over a 3-node cluster (issue 13 item 6): remote clients spread over the
// nodes (device k opens its socket on node k mod 3, with the others as its fallbacks), so that most users'
// shards are owned by another node than their socket's; the admin REST calls go to the nodes in turn (any
// node serves them). A cluster node runs on the system clock (serve refuses --clock simulated with
// --redis), so the suite's tests that need time control or server-side drops are skipped with that reason.
import { RemoteClient } from '../../../src/client/remote';
import type { AdminOps, Target } from '../../../src/conformance/target';
import { tracked } from '../../../src/conformance/target';
import { probeServer } from '../../../src/conformance/targets/network';
import { restAdmin } from '../../../src/conformance/targets/rest';
import { SDK_APP_ID, SECRET } from '../../server/proc';
import { Cluster } from './cluster';


export async function clusterTarget(cluster: Cluster): Promise<Target> {
  const nodes = cluster.nodes;
  const server = await probeServer({ admin: nodes[0]!.http, sdkAppId: SDK_APP_ID, secretKey: SECRET });
  const rests = nodes.map((x) => restAdmin({ admin: x.http, sdkAppId: SDK_APP_ID, secretKey: SECRET }));
  let turn = 0;
  const next = () => rests[turn++ % rests.length]!;
  const admin: AdminOps = {
    register: (ids) => next().register(ids),
    addFriends: (u, ids) => next().addFriends(u, ids),
    removeFriends: (u, ids) => next().removeFriends(u, ids),
    configure: (c) => next().configure(c),
    queryStatus: (ids) => next().queryStatus(ids),
  };
  const clients = new Set<RemoteClient>();
  let k = 0;
  let n = 0;
  // A push across nodes leaves after the setter's reply (the owner of the receiver's user delivers it), so
  // sync() alone does not see it: settled is every call answered, then no push on its way between the nodes and
  // none busy (cluster.drained()), then every client's ping answered (after what its node wrote to its socket).
  // (It was "then 150 ms with no event", counted from the last event: after a step whose push came across nodes
  // and no event just before, it waited for nothing but the pings, which can beat the push: ST-8's flake.)
  const settle = async () => {
    await Promise.all([...clients].map((c) => c.sync()));
    await cluster.drained();
    await Promise.all([...clients].map((c) => c.sync()));
  };
  const made = (c: RemoteClient) => tracked(clients, c);
  return {
    name: `cluster x${nodes.length}`,
    capabilities: server.capabilities,
    missing: {
      ...server.missing,
      timeControl: 'a cluster node runs on the system clock (serve refuses --clock simulated with --redis)',
      serverDrop: 'a cluster node offers no /v4/test/drop',
    },
    admin,
    client: (platform) => made(new RemoteClient({ url: cluster.urlsFrom(k++ % nodes.length), platform, random: () => 0, reconnect: { minDelayMs: 100 } })),
    userSig: (userID) => server.rest.userSig(userID),
    advance: async () => {
      throw new Error('no time control on a cluster');
    },
    settle,
    linkSlackMs: 20_000,
    dropConnections: async () => {
      throw new Error('no server-side drop on a cluster');
    },
    prefix: () => `${server.runPrefix}t${++n}_`,
    reset: server.reset,
    async close() {
      await Promise.all([...clients].map((c) => c.destroy()));
      await server.restore();
    },
  };
}
