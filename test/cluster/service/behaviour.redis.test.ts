// The whole behavioural suite against three ClusterServices sharing a real redis-server (its own port and
// data directory, appendfsync always): every call acknowledged only once its command is in the shard's
// Redis stream, deliveries and forwarded calls over Redis PUB/SUB.
import { createRedisCluster } from '../../../src/cluster/redis/backend';
import { behaviourSuite } from '../../behaviour/suite';
import { RedisServer } from '../redis';
import { clusterTarget } from './target';

behaviourSuite('cluster x3 (redis)', async () => {
  const server = await RedisServer.start();
  return clusterTarget('cluster x3 redis', 3, (clock) => createRedisCluster({ url: server.url, clock, leaseTtlMs: 3_600_000, heartbeatTtlMs: 3_600_000, prefix: 'b' }), () => server.stop());
});
