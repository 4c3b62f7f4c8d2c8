// Request forwarding: a call for a user whose shard another node owns goes to that node over its bus
// channel, and the replies reach the callers in the order the calls were made (a reorder buffer per
// destination). PUB/SUB may drop a request or a reply: the caller then gets FORWARD_TIMEOUT on the
// injected clock, never a silent hang, and may retry (writes are fenced, so a retry cannot fork a shard).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { StatusError } from '../errors';
import { ClusterError, ClusterErrorCode } from './errors';
import { encode, parseMessage, type NodeMessage } from './messages';
import type { Bus } from './types';

export interface ForwarderOptions {
  me: string;
  bus: Bus;
  clock: Clock;
  timeoutMs: number;
  /** Serves a call for a shard this node owns (throws NOT_OWNER when it does not). Called in arrival order. */
  serve: (shard: number, body: unknown) => Promise<unknown>;
}

interface Waiting {
  id: string;
  settled?: { ok: true; value: unknown } | { ok: false; error: unknown };
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: unknown;
}

export class Forwarder {
  private seq = 0;
  /** Per destination, the calls in the order they were made. */
  private readonly lines = new Map<string, Waiting[]>();
  private readonly byId = new Map<string, { to: string; w: Waiting }>();
  /** Messages that did not parse (from a node of another version, or garbage on the channel). */
  dropped = 0;

  constructor(private readonly o: ForwarderOptions) {}

  /** Calls sent and not answered yet (tests wait for none). */
  get pending(): number {
    return this.byId.size;
  }

  /** Sends a call to the node that owns `shard` and resolves with its reply, in call order per node. */
  request(to: string, shard: number, body: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = randomUUID();
      const w: Waiting = { id, resolve, reject, timer: undefined };
      let line = this.lines.get(to);
      if (line === undefined) this.lines.set(to, (line = []));
      line.push(w);
      this.byId.set(id, { to, w });
      w.timer = this.o.clock.setTimeout(
        () => this.settle(id, { ok: false, error: new ClusterError(ClusterErrorCode.FORWARD_TIMEOUT, `no reply from node ${to} in ${this.o.timeoutMs} ms (shard ${shard})`, { shard }) }),
        this.o.timeoutMs,
      );
      this.o.bus.publish(to, encode({ t: 'req', from: this.o.me, id, seq: ++this.seq, shard, body })).then(
        (n) => {
          if (n === 0) this.settle(id, { ok: false, error: new ClusterError(ClusterErrorCode.NOT_OWNER, `node ${to} is not listening (shard ${shard})`, { shard }) });
        },
        (e) => this.settle(id, { ok: false, error: e }),
      );
    });
  }

  /** Fails every call still waiting (this node stops), so that no timer outlives it. */
  close(): void {
    for (const [id, { to }] of [...this.byId]) {
      this.settle(id, { ok: false, error: new ClusterError(ClusterErrorCode.NOT_OWNER, `this node stopped before node ${to} answered`) });
    }
  }

  /** Feed every raw message of this node's channel here. */
  handle(raw: string): void {
    this.take(parseMessage(raw));
  }

  /** The same, for a message parsed already (undefined: it did not parse). */
  take(m: NodeMessage | undefined): void {
    if (m === undefined) {
      this.dropped += 1;
      return;
    }
    if (m.t === 'res') {
      this.settle(m.id, m.ok ? { ok: true, value: m.body } : { ok: false, error: toError(m.body) });
    } else if (m.t === 'req') {
      const { from, id } = m;
      // serve() is called now, in arrival order, so the owner orders the calls as they were sent.
      this.o.serve(m.shard, m.body).then(
        (body) => this.reply(from, id, true, body),
        (e) => this.reply(from, id, false, fromError(e)),
      );
    }
  }

  private reply(to: string, id: string, ok: boolean, body: unknown): void {
    // A reply lost here (Redis down) shows as the caller's FORWARD_TIMEOUT.
    this.o.bus.publish(to, encode({ t: 'res', id, ok, body })).catch(() => undefined);
  }

  private settle(id: string, result: NonNullable<Waiting['settled']>): void {
    const entry = this.byId.get(id);
    if (entry === undefined || entry.w.settled) return;
    entry.w.settled = result;
    this.o.clock.clearTimeout(entry.w.timer);
    const line = this.lines.get(entry.to)!;
    // Hand out replies only from the head of the line: a later reply waits for the earlier call.
    while (line.length > 0 && line[0]!.settled) {
      const w = line.shift()!;
      this.byId.delete(w.id);
      if (w.settled!.ok) w.resolve(w.settled!.value);
      else w.reject(w.settled!.error);
    }
    if (line.length === 0) this.lines.delete(entry.to);
  }
}

const fromError = (e: unknown) =>
  e instanceof StatusError ? { code: e.code, message: e.message } : { code: ClusterErrorCode.NOT_OWNER, message: String(e instanceof Error ? e.message : e) };
function toError(body: unknown): StatusError {
  const b = (body ?? {}) as { code?: unknown; message?: unknown };
  return new StatusError(typeof b.code === 'number' ? b.code : 70500, typeof b.message === 'string' ? b.message : 'forwarded call failed');
}
