// Mirrors between shards (src/engine/shard.ts: the edges a user makes to another shard's users, recorded at
// the target's owner). Each leaves after its source command is durable, to the target shard's engine here
// or its owner node, and is retried with backoff until acknowledged (durable there; applying one twice
// changes nothing). The source shard's log is the outbox: a new owner sends its tail's mirrors again.
import type { PeerMessage } from '../broker/types';
import type { Clock } from '../clock';
import { ClusterError, ClusterErrorCode } from './errors';
import type { ClusterRuntime, Request } from './runtime';
import type { ShardEngine } from './shardEngine';

type Mirror = Extract<PeerMessage, { type: 'mirror' }>;

export class Mirrors {
  private readonly retries = new Set<unknown>();
  private stopped = false;

  constructor(
    private readonly rt: ClusterRuntime,
    private readonly clock: Clock,
    private readonly retryMs: number,
  ) {}

  /** After the source's command is durable; the source's later acknowledgements wait for the first attempt. */
  send(from: number, m: Mirror): void {
    const src = this.rt.engines.get(from);
    if (src === undefined) return;
    src.mirrorsPending += 1;
    const first = new Promise<void>((resolve) => src.store.afterDurable(() => void this.attempt(src, m, 0).finally(resolve)));
    src.store.track(first);
  }

  /** The outbox of a rebuilt shard: the mirrors of its log's tail, sent again in order. */
  async resend(src: ShardEngine): Promise<void> {
    for (const m of src.replayedMirrors) {
      src.mirrorsPending += 1;
      await this.attempt(src, m, 0);
    }
    src.replayedMirrors.length = 0;
  }

  private async attempt(src: ShardEngine, m: Mirror, n: number): Promise<void> {
    const rt = this.rt;
    // A source engine that was dropped stops: its successor sends its log's mirrors again.
    if (this.stopped || rt.engines.get(src.shard) !== src) return;
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
      src.mirrorsPending -= 1;
    } catch {
      rt.counts.mirrorRetries += 1;
      const h = this.clock.setTimeout(() => {
        this.retries.delete(h);
        void this.attempt(src, m, n + 1);
      }, Math.min(this.retryMs * 2 ** Math.min(n, 4), 30_000));
      this.retries.add(h);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.retries) this.clock.clearTimeout(h);
    this.retries.clear();
  }
}
