// Cluster mode's parts of the server (issue 13): the front-ends' view of the cluster (who owns a user,
// relays to the owner), the cluster's lines of /healthz, and its metrics in the server's registry.
import { Counter, Gauge } from 'prom-client';
import type { AddressBook } from '../../cluster/addresses';
import type { ClusterHealth, ClusterService } from '../../cluster/service';
import { PREFIX, type ServerMetrics } from '../metrics';
import type { FrontCluster } from './front';
import type { RelayLogger } from './relay';
import { relayToken } from './relayAuth';

export interface ClusterParts {
  service: ClusterService;
  addresses: AddressBook;
  secretKey: string;
  log: RelayLogger;
  metrics: ServerMetrics;
  maxPayloadBytes: number;
  maxBufferedBytes: number;
}

/** Frames a client may send before its relay is open (its login, then a few calls it did not wait for). */
export const RELAY_MAX_PENDING_FRAMES = 64;
export const RELAY_CONNECT_TIMEOUT_MS = 5_000;

export function clusterFront(p: ClusterParts): FrontCluster {
  const { service } = p;
  const registers = [p.metrics.registry];
  const frames = new Counter({ name: `${PREFIX}relay_frames_total`, help: 'Frames piped between a client and its user\'s owner node, by direction (up: to the owner)', labelNames: ['direction'], registers });
  new Gauge({
    name: `${PREFIX}cluster_shards_owned`,
    help: 'Shards this node owns now',
    registers,
    collect() {
      this.set(service.health().shards.length);
    },
  });
  new Gauge({
    name: `${PREFIX}cluster_live_nodes`,
    help: 'Nodes of the cluster whose membership has not run out',
    registers,
    collect() {
      this.set(service.health().live.length);
    },
  });
  new Gauge({
    name: `${PREFIX}cluster_redis_ready`,
    help: '1 while this node\'s Redis connection is ready, else 0',
    registers,
    collect() {
      this.set(service.health().redis === 'ready' ? 1 : 0);
    },
  });
  const forget = (p.addresses as { forget?: (node: string) => void }).forget;
  return {
    nodeId: service.nodeId,
    ownerOf: (u) => service.ownerOf(u),
    shardOf: (u) => service.shardOf(u),
    relays: {
      lookup: (node) => p.addresses.lookup(node),
      ...(forget ? { forget: (node: string) => forget.call(p.addresses, node) } : {}),
      token: (to) => relayToken(p.secretKey, service.nodeId, to, Date.now()),
      log: p.log,
      maxPayloadBytes: p.maxPayloadBytes,
      maxBufferedBytes: p.maxBufferedBytes,
      maxPendingFrames: RELAY_MAX_PENDING_FRAMES,
      connectTimeoutMs: RELAY_CONNECT_TIMEOUT_MS,
      onFrame: (direction) => frames.inc({ direction }),
    },
  };
}

/** Counts of relays opened, by protocol, as a counter that follows the front-ends' totals. */
export function relayCounter(metrics: ServerMetrics, totals: () => { client: number; sdk: number }): void {
  const seen = { client: 0, sdk: 0 };
  new Counter({
    name: `${PREFIX}relayed_connections_total`,
    help: 'Client sockets relayed to their user\'s owner node, by protocol',
    labelNames: ['protocol'],
    registers: [metrics.registry],
    collect() {
      const now = totals();
      for (const k of ['client', 'sdk'] as const) {
        if (now[k] > seen[k]) this.inc({ protocol: k }, now[k] - seen[k]);
        seen[k] = Math.max(seen[k], now[k]);
      }
    },
  });
}

export type NodeHealth = ClusterHealth & { status: 'ok' | 'unhealthy'; advertise: string; relayed: { client: number; sdk: number } };

/** /healthz's cluster lines: unhealthy (503) while Redis is not ready (no call can be acknowledged). */
export function clusterHealth(service: ClusterService, advertise: string, relayed: { client: number; sdk: number }): NodeHealth {
  const h = service.health();
  return { status: h.redis === 'ready' ? 'ok' : 'unhealthy', ...h, advertise, relayed };
}
