// The dashboard's reads on a cluster node (`serve --redis`): a user is described at its owner through the
// ClusterAdmin (from any node), the counts are the whole cluster's (one admin request per node, shared by
// every open page for a second), and the node's own panel is what /healthz says of it. Live steps: this
// node's shards as they happen; watched users whose shards other nodes own are polled (their explain).
import type { Clock } from '../clock';
import type { ClusterAdmin, ClusterCounts, ClusterService } from '../cluster/service';
import type { StatusTransition } from '../records';
import { describeFacts } from './dashboardView';

/** How often a watched user owned by another node is read again (its steps reach the page this late). */
export const CLUSTER_POLL_MS = 2000;
/** Cluster counts are read at most this often, whatever the number of open pages. */
const COUNTS_EVERY_MS = 1000;

export interface ClusterDashboard {
  readonly nodeId: string;
  readonly pollMs: number;
  describe(userID: string): Promise<ReturnType<typeof describeFacts>>;
  counts(): Promise<ClusterCounts & { missingShards: number[]; node: unknown }>;
  /** This node's panel (the cluster lines of /healthz). */
  node(): unknown;
  /**
   * One live stream's watched users: those another node owns are polled every pollMs and their new steps
   * handed to `emit`; `seen(t)` says whether a step this node saw itself is new to the stream (each step
   * once, by its shard's seq, whichever way it came).
   */
  follow(watch: ReadonlySet<string>, emit: (t: StatusTransition) => void): { seen(t: StatusTransition): boolean; stop(): void };
}

type Reads = Required<Pick<ClusterAdmin, 'userFacts' | 'counts' | 'explain'>>;

export function clusterDashboard(service: ClusterService, clock: Clock, node: () => unknown, pollMs = CLUSTER_POLL_MS): ClusterDashboard | null {
  const admin = service.admin;
  if (!admin.userFacts || !admin.counts) return null; // a test double without the dashboard's reads
  const reads = admin as ClusterAdmin & Reads;
  let cached: { at: number; value: Promise<ClusterCounts> } | null = null;
  return {
    nodeId: service.nodeId,
    pollMs,
    describe: async (userID) => describeFacts(userID, await reads.userFacts(userID)),
    async counts() {
      const now = clock.now();
      if (cached === null || now - cached.at >= COUNTS_EVERY_MS) {
        const value = reads.counts();
        cached = { at: now, value };
        value.catch(() => (cached = null));
      }
      const c = await cached.value;
      return { ...c, missingShards: c.missing, node: node() };
    },
    node,
    follow(watch, emit) {
      const last = new Map<string, number>();
      let stopped = false;
      let timer: unknown = null;
      const seen = (t: StatusTransition) => {
        if (t.seq <= (last.get(t.userID) ?? -1)) return false;
        last.set(t.userID, t.seq);
        return true;
      };
      const poll = async (first: boolean) => {
        await Promise.all(
          [...watch].map(async (u) => {
            if (!first && service.ownerOf(u) === service.nodeId) return; // its steps come live
            const steps = await reads.explain(u).catch(() => [] as StatusTransition[]);
            if (stopped) return;
            // The first read sets where the stream starts (the page shows the journal for what came before).
            if (first && !last.has(u)) {
              const end = steps.at(-1);
              if (end) last.set(u, end.seq);
              return;
            }
            for (const t of steps) if (seen(t)) emit(t);
          }),
        );
        if (!stopped) timer = clock.setTimeout(() => void poll(false), pollMs);
      };
      void poll(true);
      return {
        seen,
        stop() {
          stopped = true;
          if (timer !== null) clock.clearTimeout(timer);
        },
      };
    },
  };
}
