// Group commit for one shard: the calls made in one event-loop turn (and those that arrive while a batch is
// in flight) go to the shard log as ONE atomic append, so one fsync (appendfsync always) serves them all. A
// call resolves with its offset only after the append returned; a failed append says why, and the writer
// never guesses: after an in-doubt failure it reads the head before it writes again.
import { randomUUID } from 'node:crypto';
import { MAX_BATCH } from './checks';
import { ClusterError, ClusterErrorCode, isClusterError } from './errors';
import type { Fence, ShardLog } from './types';

export type WriterState = 'open' | 'in-doubt' | 'stopped';

/** How an in-doubt batch turned out once the writer could read the head again. */
export interface Resolution {
  batchId: string;
  commands: readonly string[];
  /** true: it is in the log at offsets first.. (its calls were told OUTCOME_UNKNOWN; the owner applies it). */
  landed: boolean;
  first: number;
}

export interface ShardWriterOptions {
  shard: number;
  log: ShardLog;
  fence: Fence;
  /** The head the owner's state is built on (from open/load). */
  head: number;
  maxBatch?: number;
  /** When to flush what this turn queued; default setImmediate (after the turn's I/O callbacks). */
  schedule?: (flush: () => void) => void;
  newBatchId?: () => string;
  onResolved?: (r: Resolution) => void;
  /** The writer stopped for good (fenced, epoch lost, or another writer): the owner must give the shard up. */
  onStopped?: (e: ClusterError) => void;
}

interface Pending {
  command: string;
  resolve: (offset: number) => void;
  reject: (e: unknown) => void;
}

export class ShardWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  private doubt: { batchId: string; commands: string[]; after: number } | undefined;
  private stopError: ClusterError | undefined;
  private headNow: number;
  /** Appends sent (script calls), for tests and the bench. */
  batches = 0;

  constructor(private readonly o: ShardWriterOptions) {
    this.headNow = o.head;
  }

  get head(): number {
    return this.headNow;
  }
  get state(): WriterState {
    return this.stopError ? 'stopped' : this.doubt ? 'in-doubt' : 'open';
  }

  /** Resolves with the command's offset once it is durable. */
  append(command: string): Promise<number> {
    if (this.stopError) return Promise.reject(this.stopError);
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        (this.o.schedule ?? setImmediate)(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  /** Sends what is queued, batch after batch, until the queue is empty. One batch in flight at a time: the
   * next one's `after` is the head the previous one made. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0 && !this.stopError) {
        if (this.doubt && !(await this.tryResync())) {
          this.failQueued(this.queue.splice(0), unavailable(this.o.shard));
          break;
        }
        const batch = this.queue.splice(0, this.o.maxBatch ?? MAX_BATCH);
        await this.send(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const commands = batch.map((p) => p.command);
    const batchId = (this.o.newBatchId ?? randomUUID)();
    const after = this.headNow;
    this.batches += 1;
    try {
      const head = await this.o.log.append(this.o.shard, this.o.fence, after, batchId, commands);
      this.headNow = head;
      batch.forEach((p, i) => p.resolve(after + 1 + i));
    } catch (e) {
      if (isClusterError(e, ClusterErrorCode.OUTCOME_UNKNOWN)) this.doubt = { batchId, commands, after };
      else if (isClusterError(e) && e.code !== ClusterErrorCode.STORE_UNAVAILABLE) this.stop(e);
      this.failQueued(batch, e);
    }
  }

  /** Reads the head again after an in-doubt append. false: Redis still cannot say. */
  async resync(): Promise<boolean> {
    return this.tryResync();
  }

  private async tryResync(): Promise<boolean> {
    const d = this.doubt;
    if (d === undefined) return true;
    let head;
    try {
      head = await this.o.log.open(this.o.shard, `lost-${randomUUID()}`);
    } catch {
      return false;
    }
    this.doubt = undefined;
    if (head.epoch !== this.o.fence.epoch) {
      this.stop(new ClusterError(ClusterErrorCode.EPOCH_CHANGED, `shard ${this.o.shard}: epoch ${this.o.fence.epoch} is gone (now ${head.epoch})`, { shard: this.o.shard, current: head.epoch }));
    } else if (head.lastBatch === d.batchId) {
      this.headNow = head.head;
      this.o.onResolved?.({ batchId: d.batchId, commands: d.commands, landed: true, first: d.after + 1 });
    } else if (head.head === d.after) {
      this.o.onResolved?.({ batchId: d.batchId, commands: d.commands, landed: false, first: d.after + 1 });
    } else {
      this.stop(new ClusterError(ClusterErrorCode.LOG_CONFLICT, `shard ${this.o.shard}: another writer moved the head to ${head.head}`, { shard: this.o.shard, current: head.head }));
    }
    return true;
  }

  private stop(e: ClusterError): void {
    if (this.stopError) return;
    this.stopError = e;
    this.failQueued(this.queue.splice(0), e);
    this.o.onStopped?.(e);
  }

  private failQueued(batch: Pending[], e: unknown): void {
    for (const p of batch) p.reject(e);
  }

  /** Fails what is still queued (the owner is giving the shard up). */
  close(): void {
    this.stop(new ClusterError(ClusterErrorCode.NOT_OWNER, `shard ${this.o.shard}: this node gave the shard up`, { shard: this.o.shard }));
  }
}

const unavailable = (shard: number) =>
  new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `shard ${shard}: redis unavailable and an earlier batch is in doubt; nothing was written`, { shard });
