// The cluster contract on the in-memory backend.
import { createMemoryCluster, MemoryStore } from '../../src/cluster/memory';
import { clusterContract, HEARTBEAT_MS, LEASE_MS } from './contract';

clusterContract('memory', async () => {
  const store = new MemoryStore();
  return {
    backend: async (clock) => createMemoryCluster(store, { clock, leaseTtlMs: LEASE_MS, heartbeatTtlMs: HEARTBEAT_MS }),
    lose: async (shard) => store.lose(shard),
    scriptCalls: async () => store.appendCalls,
    close: async () => undefined,
  };
});
