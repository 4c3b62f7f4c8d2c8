// Mirrors between shards (src/engine/shard.ts: the edges a user makes to another shard's users, recorded at
// the target's owner). Each leaves after its source command is durable, to the target shard's engine here
// or its owner node, and is retried with backoff until acknowledged (durable there; applying one twice
// changes nothing). The source shard's log is the outbox: a new owner sends its tail's mirrors again.
// One edge's mirrors reach the target in the source's order: a retried one that a later mirror of the same
// edge superseded is dropped, never applied after it (a subscribe retried after its unsubscribe landed).
import type { PeerMessage } from '../broker/types';
import type { Clock } from '../clock';
import { ClusterError, ClusterErrorCode } from './errors';
import type { ClusterRuntime, Request } from './runtime';
import type { ShardEngine } from './shardEngine';

type Mirror = Extract<PeerMessage, { type: 'mirror' }>;

const edgeOf = (m: Mirror) => `${m.edge}\u0000${m.userID}\u0000${m.target}`;

export class Mirrors {
  private readonly retries = new Set<unknown>();
  private stopped = false;
  /** Per source engine, per edge with a mirror not done yet: the newest one it made (in its log order; an older
   * one still waiting is superseded by it) and how many are not done. */
  private readonly edges = new WeakMap<ShardEngine, Map<string, { newest: Mirror; waiting: number }>>();

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly clock: Clock,
    private readonly retryMs: number,
  ) {}

  /** After the source's command is durable; the source's later acknowledgements wait for the first attempt. */
  send(from: number, m: Mirror): void {
    const src = this.rt.engines.get(from);
    if (src === undefined) return;
    this.made(src, m);
    src.mirrorsPending += 1;
    const first = new Promise<void>((resolve) => src.store.afterDurable(() => void this.attempt(src, m, 0).finally(resolve)));
    src.store.track(first);
  }

  /** The outbox of a rebuilt shard: the mirrors of its log's tail, sent again in order. */
  async resend(src: ShardEngine): Promise<void> {
    // All of them known at once, in log order, before any live command of the new engine makes another.
    const tail = src.replayedMirrors.splice(0);
    for (const m of tail) this.made(src, m);
    src.mirrorsPending += tail.length;
    for (const m of tail) await this.attempt(src, m, 0);
  }

  /** `m` is the source's newest mirror of its edge: any earlier one still waiting is superseded by it. */
  private made(src: ShardEngine, m: Mirror): void {
    let edges = this.edges.get(src);
    if (edges === undefined) this.edges.set(src, (edges = new Map()));
    const e = edges.get(edgeOf(m));
    if (e === undefined) edges.set(edgeOf(m), { newest: m, waiting: 1 });
    else {
      e.newest = m;
      e.waiting += 1;
    }
  }

  private superseded(src: ShardEngine, m: Mirror): boolean {
    const e = this.edges.get(src)?.get(edgeOf(m));
    return e !== undefined && e.newest !== m;
  }

  /** Acknowledged or superseded: nothing more to send for `m`. */
  private done(src: ShardEngine, m: Mirror): void {
    src.mirrorsPending -= 1;
    const edges = this.edges.get(src);
    const e = edges?.get(edgeOf(m));
    if (e !== undefined && --e.waiting === 0) edges!.delete(edgeOf(m));
  }

  private async attempt(src: ShardEngine, m: Mirror, n: number): Promise<void> {
    const rt = this.rt;
    // A source engine that was dropped stops: its successor sends its log's mirrors again.
    if (this.stopped || rt.engines.get(src.shard) !== src) return;
    // A later mirror of the same edge was made since (its command is later in the source's log): applied now,
    // this one could undo it at the target. That one (retried until acknowledged, or re-sent from the log by a
    // new owner) carries the edge's state; this one is done.
    if (this.superseded(src, m)) {
      rt.counts.mirrorsSuperseded += 1;
      return this.done(src, m);
    }
    // A node that was frozen past its lease wakes with its retry timers due before its round drops the shard:
    // its state may be stale (another node owns the shard now), so it sends nothing once its lease ran out.
    const owned = rt.node.shard(src.shard);
    if (owned === undefined || owned.grant.expiresAt <= this.clock.now()) return this.retry(src, m, n);
    rt.counts.mirrorsSent += 1;
    try {
      const local = rt.engineOf(m.target);
      if (local?.local?.peer !== undefined) {
        local.local.peer(m);
        await local.store.landed(); // not durable(): that waits for the target's own mirrors (a cycle)
      } else {
        const shard = rt.shardOf(m.target);
        const to = rt.ownerOfShard(shard);
        if (to === null || to === rt.me) throw new ClusterError(ClusterErrorCode.NOT_OWNER, `shard ${shard} has no owner right now`, { shard });
        await rt.forwarder.request(to, shard, { op: 'mirror', m } satisfies Request);
      }
      this.done(src, m);
    } catch {
      this.retry(src, m, n);
    }
  }

  private retry(src: ShardEngine, m: Mirror, n: number): void {
    this.rt.counts.mirrorRetries += 1;
    const h = this.clock.setTimeout(() => {
      this.retries.delete(h);
      void this.attempt(src, m, n + 1);
    }, Math.min(this.retryMs * 2 ** Math.min(n, 4), 30_000));
    this.retries.add(h);
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.retries) this.clock.clearTimeout(h);
    this.retries.clear();
  }
}
