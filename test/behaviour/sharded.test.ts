// The behavioural suite against engines side by side (issue 10 item 5): two, then three engines over one
// MemoryBroker, the users split between them, every test's users spread over the engines.
import { behaviourSuite } from './suite';
import { shardedTarget } from './sharded';

behaviourSuite('sharded x2', () => shardedTarget(2));
behaviourSuite('sharded x3', () => shardedTarget(3));
