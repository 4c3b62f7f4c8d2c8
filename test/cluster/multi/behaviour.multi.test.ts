// The shared behavioural suite (src/conformance/suite) against a real 3-node cluster: redis-server and three
// `serve --redis` processes, clients spread over the nodes (most users' shards on another node than their
// socket), admin REST calls on every node in turn. The tests needing time control or server-side drops are
// skipped with that reason (a cluster node runs on the system clock); everything else runs.
import { behaviourSuite } from '../../behaviour/suite';
import { Cluster } from './cluster';
import { clusterTarget } from './target';

behaviourSuite('cluster x3', async () => {
  const cluster = await Cluster.start({ nodes: 3, shards: 16 });
  try {
    const target = await clusterTarget(cluster);
    return {
      ...target,
      async close() {
        try {
          await target.close();
        } finally {
          await cluster.stop();
        }
      },
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
});
