// Cluster-mode servers in one process: each a real `startServer` on 127.0.0.1 with its own ClusterService,
// all over one in-memory cluster backend and one node address registry, on one simulated clock (the nodes'
// leases and the sockets' timers). What `serve --redis` runs, minus Redis and the process boundary.
import pino from 'pino';
import WebSocket from 'ws';
import { SimulatedClock } from 'xstate';
import { MemoryAddressBook } from '../../../src/cluster/addresses';
import { createClusterService, type ClusterServiceInternals } from '../../../src/cluster/createService';
import { createMemoryCluster, MemoryStore } from '../../../src/cluster/memory';
import type { ClusterService } from '../../../src/cluster/service';
import { startServer, type RunningServer } from '../../../src/server/server';
import { SDK_APP_ID, SECRET, adminQuery, sig } from '../proc';
import type { TestServer } from '../wire';

export const LEASE_MS = 3000;

/** Opens a WebSocket upgrade with these headers: 101 if it opened (closed at once), else the HTTP status. */
export const upgrade = (url: string, headers: Record<string, string>) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });

export interface Node extends TestServer {
  id: string;
  service: ClusterServiceInternals;
  closed: boolean;
  /** A frozen node takes no part in membership rounds (a paused process, as far as the cluster can tell). */
  frozen: boolean;
}

export interface TestCluster {
  clock: SimulatedClock;
  addresses: MemoryAddressBook;
  nodes: Node[];
  add(id: string): Promise<Node>;
  /** Membership rounds on every live node, until ownership is settled. */
  rounds(n?: number): Promise<void>;
  /** Moves the nodes' clock on by `ms`, then a membership round. */
  advance(ms: number): Promise<void>;
  /** Users (u0, u1, ...) whose shard `node` owns. */
  usersOf(node: Node, count: number): string[];
  close(): Promise<void>;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

export async function restOf(url: string, command: string, body: unknown): Promise<Record<string, any>> {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
  const res = await fetch(`${url}/v4/${command}?${q}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return (await res.json()) as Record<string, any>;
}

/** A server in cluster mode over `service` (any ClusterService: the real one, or a test's own). */
export async function serveNode(service: ClusterService, addresses: MemoryAddressBook, extra: Record<string, unknown> = {}) {
  const lines: Array<Record<string, any>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const server: RunningServer = await startServer({ host: '127.0.0.1', port: 0, sdkAppId: SDK_APP_ID, secretKey: SECRET, logger, cluster: { service, addresses }, ...extra });
  return {
    server,
    url: server.url,
    ws: server.url.replace('http', 'ws'),
    clock: undefined as never,
    lines,
    rest: (command: string, body: unknown) => restOf(server.url, command, body),
    health: async () => (await fetch(`${server.url}/healthz?${adminQuery()}`)).json() as Promise<Record<string, any>>,
    close: () => server.close(),
  };
}

export async function startTestCluster(ids: string[], shards = 8): Promise<TestCluster> {
  const clock = new SimulatedClock();
  const store = new MemoryStore();
  const addresses = new MemoryAddressBook();
  const nodes: Node[] = [];
  const rounds = async (n = 5) => {
    for (let i = 0; i < n; i++) {
      await Promise.all(nodes.filter((x) => !x.closed && !x.frozen).map((x) => x.service.runtime.node.tick()));
      for (let j = 0; j < 5; j++) await turn();
    }
  };
  const add = async (id: string) => {
    const backend = createMemoryCluster(store, { clock, leaseTtlMs: LEASE_MS, heartbeatTtlMs: LEASE_MS });
    const service = createClusterService({ backend, nodeId: id, clock, shards, autoTick: false, engine: { switches: { userStatus: true, friendStatusNotify: true } } });
    const node = Object.assign(await serveNode(service, addresses), { id, service, closed: false, frozen: false });
    const close = node.close;
    node.close = async () => {
      node.closed = true;
      await close();
    };
    nodes.push(node);
    await rounds();
    return node;
  };
  for (const id of ids) await add(id);
  await rounds();
  return {
    clock,
    addresses,
    nodes,
    add,
    rounds,
    async advance(ms) {
      clock.increment(ms);
      await rounds(1);
    },
    usersOf(node, count) {
      const out: string[] = [];
      for (let i = 0; out.length < count && i < 10_000; i++) if (node.service.ownerOf(`u${i}`) === node.id) out.push(`u${i}`);
      return out;
    },
    async close() {
      for (const n of nodes) if (!n.closed) await n.close().catch(() => undefined);
    },
  };
}
