// The whole behavioural suite against three ClusterServices over the in-memory backend: each client on
// the node owning its user, most of its subscriptions and friends on the other nodes.
import { behaviourSuite } from '../../behaviour/suite';
import { memoryBackends } from './harness';
import { clusterTarget } from './target';

behaviourSuite('cluster x3 (memory backend)', () => clusterTarget('cluster x3 memory', 3, memoryBackends(3_600_000).make));
