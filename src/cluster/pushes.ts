// Pushes between nodes, made whole over an at-most-once bus. The owner numbers each push with the shard's
// offset and the previous push it sent that node for the shard; the receiver follows admitPush (gaps.ts):
// a hole is filled from the shard's stream before the push is delivered, a duplicate dropped, a lost
// history (epoch change, or trimmed past the cursor) handed to resync. Per shard, strictly in order.
import { admitPush, advance, type PushCursor } from './gaps';
import { encode, type NodeMessage } from './messages';
import type { Bus, ShardLog } from './types';

type Push = Extract<NodeMessage, { t: 'push' }>;

interface Batch {
  list: Push[];
  /** Made for send()'s callers only (post() needs no promise per push). */
  done?: Promise<number>;
  settle?: (r: { n: number } | { error: unknown }) => void;
}

/**
 * Numbers each push, and sends the pushes made in one turn of the event loop (the deliveries of the group commits
 * that landed in it) to one node as one message (one PUBLISH
 * instead of one per push: the per-command cost of the client, of Redis and of the receiver's parsing was
 * most of a cross-node delivery's). In order per node; a lost message is a gap as a lost push was.
 */
export class PushSender {
  private readonly last = new Map<string, number>();
  /** post()'s numbering: per chain (an engine instance of one shard), per node, the last offset sent. */
  private readonly numbers = new Map<string, Map<string, number>>();
  private readonly batches = new Map<string, Batch>();
  private flushing = false;
  /** `onLost`: told of the pushes of a message that reached no subscriber or whose publish failed. */
  constructor(
    private readonly bus: Bus,
    private readonly onLost?: (pushes: number) => void,
  ) {}

  /** Pushes waiting to leave (tests wait for none). */
  get queued(): number {
    let n = 0;
    for (const b of this.batches.values()) n += b.list.length;
    return n;
  }

  /** Publishes a change of `shard` at `offset` to `node` at the end of this turn. A failure (Redis down) is the
   * receiver's gap. Resolves with the number of subscribers that got it (0: the node is not listening). */
  send(node: string, shard: number, epoch: string, offset: number, body: unknown): Promise<number> {
    const key = `${node}\u0000${shard}\u0000${epoch}`;
    const prev = this.last.get(key) ?? 0;
    this.last.set(key, offset);
    const b = this.queue(node, { t: 'push', shard, epoch, prev, offset, body });
    if (b.done === undefined) b.done = new Promise<number>((resolve, reject) => (b.settle = (r) => ('n' in r ? resolve(r.n) : reject(r.error))));
    return b.done;
  }

  /** The same without a promise: the next push of `chain` (one engine instance of `shard`) to `node`, numbered
   * here (offsets 1, 2, ... per chain and node); a loss is told to onLost. */
  post(node: string, shard: number, chain: string, body: unknown): void {
    let byNode = this.numbers.get(chain);
    if (byNode === undefined) this.numbers.set(chain, (byNode = new Map()));
    const prev = byNode.get(node) ?? 0;
    byNode.set(node, prev + 1);
    this.queue(node, { t: 'push', shard, epoch: chain, prev, offset: prev + 1, body });
  }

  private queue(node: string, p: Push): Batch {
    let b = this.batches.get(node);
    if (b === undefined) this.batches.set(node, (b = { list: [] }));
    b.list.push(p);
    if (!this.flushing) {
      this.flushing = true;
      // After this turn of the event loop: the deliveries of every group commit that landed in it (one shard's
      // each, as Redis' replies came in) go to a node as one message. Flushed at the end of each commit's own
      // microtasks instead, a node sent about one PUBLISH per change more with 5 subscriptions each, and its
      // receivers parsed as many more messages. Order per node is unchanged (one queue per node).
      setImmediate(() => this.flush());
    }
    return b;
  }

  /** What kill -9 does: the pushes not sent yet are gone (their receivers find the hole, as after a lost message). */
  drop(): void {
    this.batches.clear();
  }

  private flush(): void {
    this.flushing = false;
    for (const [node, b] of this.batches) {
      const m = b.list.length === 1 ? b.list[0]! : { t: 'pushes' as const, list: b.list };
      this.bus.publish(node, encode(m)).then(
        (n) => {
          if (n === 0) this.onLost?.(b.list.length);
          b.settle?.({ n });
        },
        (error) => {
          this.onLost?.(b.list.length);
          b.settle?.({ error });
        },
      );
    }
    this.batches.clear();
  }
}

export interface PushInboxOptions {
  /** Hands a push's body to this node's recipients. */
  deliver: (body: unknown) => void;
  /** After a hole (or a new owner's chain): brings this node's devices that hear of the shard up to date. */
  resync: (shard: number) => Promise<void>;
  counts: { duplicates: number; resyncs: number };
}

/**
 * A node's receiving side (the runtime's; PushReceiver below fills holes from the log instead). In the common case
 * (the shard's pushes are not waiting for a resync) a push is admitted and delivered at once, in the bus message's
 * own turn: no promise per push, and a message's pushes reach each device's socket in one corked write. While a
 * resync of the shard runs, its later pushes queue behind it: per shard, strictly in order (NTF-6).
 */
export class PushInbox {
  private readonly cursors = new Map<number, PushCursor>();
  private readonly chains = new Map<number, Promise<void>>();
  /** Pushes and resyncs waiting (tests and busy() wait for none). */
  admitting = 0;

  constructor(private readonly o: PushInboxOptions) {}

  receive(p: Push): void {
    const waiting = this.chains.get(p.shard);
    if (waiting === undefined) {
      const resync = this.admit(p);
      if (resync !== undefined) this.hold(p.shard, resync);
    } else this.hold(p.shard, waiting.then(() => this.admit(p)));
  }

  /** `shard`'s pushes wait for `work` (a resync, or pushes queued behind one). */
  private hold(shard: number, work: Promise<void>): void {
    this.admitting += 1;
    const next: Promise<void> = work
      .catch(() => undefined)
      .finally(() => {
        this.admitting -= 1;
        if (this.chains.get(shard) === next) this.chains.delete(shard);
      });
    this.chains.set(shard, next);
  }

  /** Runs when every earlier push of the shard is done; returns the resync the shard's later pushes wait for, if any. */
  private admit(p: Push): Promise<void> | undefined {
    const cursor = this.cursors.get(p.shard);
    const v = admitPush(cursor, p);
    if (v.kind === 'duplicate') {
      this.o.counts.duplicates += 1;
      return undefined;
    }
    this.cursors.set(p.shard, advance(cursor, p, v)!);
    if (v.kind === 'gap' || v.kind === 'epoch') {
      // Something between the last push we took and this one is lost (or a new owner's chain began after
      // the old owner died): the devices get the current state of what moved (which includes this push).
      this.o.counts.resyncs += 1;
      return this.o.resync(p.shard);
    }
    try {
      this.o.deliver(p.body);
    } catch {
      // A device's failure is its own; the other pushes go on (as a rejected admission did).
    }
    return undefined;
  }
}

export type Delivered = { from: 'push'; body: unknown } | { from: 'log'; command: string };

export interface PushReceiverOptions {
  log: ShardLog;
  /** One change for this node's recipients, in shard order: a push, or a command read from the log (the
   * engine derives the recipients' changes from it, as the owner did). */
  deliver: (shard: number, offset: number, item: Delivered) => void;
  /** The commands in between are gone (new epoch, or trimmed): resync the shard's recipients from state. */
  resync: (shard: number, epoch: string) => void;
  pageSize?: number;
}

export class PushReceiver {
  private readonly cursors = new Map<number, PushCursor>();
  private readonly chains = new Map<number, Promise<void>>();
  /** Commands read from the log to fill holes, and pushes dropped as duplicates. */
  filled = 0;
  duplicates = 0;

  constructor(private readonly o: PushReceiverOptions) {}

  cursor(shard: number): PushCursor | undefined {
    return this.cursors.get(shard);
  }

  /** Takes a push; resolves once it (and any hole before it) was delivered. Never rejects: a log read that
   * fails leaves the cursor where it was, so the next push finds the hole again. */
  handle(p: Push): Promise<void> {
    const next = (this.chains.get(p.shard) ?? Promise.resolve()).then(() => this.admit(p)).catch(() => undefined);
    this.chains.set(p.shard, next);
    return next;
  }

  private async admit(p: Push): Promise<void> {
    const cursor = this.cursors.get(p.shard);
    const v = admitPush(cursor, p);
    if (v.kind === 'duplicate') {
      this.duplicates += 1;
      return;
    }
    if (v.kind === 'epoch') this.o.resync(p.shard, v.epoch);
    if (v.kind === 'gap' && !(await this.fill(p.shard, v.from, v.to, p.epoch))) this.o.resync(p.shard, p.epoch);
    this.o.deliver(p.shard, p.offset, { from: 'push', body: p.body });
    this.cursors.set(p.shard, advance(cursor, p, v)!);
  }

  /** Delivers commands from+1..to from the stream. false: they are not all there any more. */
  private async fill(shard: number, from: number, to: number, epoch: string): Promise<boolean> {
    let at = from;
    while (at < to) {
      const r = await this.o.log.readAfter(shard, at, Math.min(this.o.pageSize ?? 500, to - at));
      if (r === null || r.epoch !== epoch || r.firstKept > at + 1) return false;
      const page = r.entries.filter((e) => e.offset <= to);
      if (page.length === 0) return false;
      for (const e of page) {
        this.o.deliver(shard, e.offset, { from: 'log', command: e.command });
        this.filled += 1;
        at = e.offset;
      }
    }
    return true;
  }
}
