// The messages nodes send each other on their bus channels. Parsed defensively: a bad message is dropped
// (and counted), never thrown into a handler. Pushes (most of the traffic) have a compact form of their own
// (pushCodec.ts); the rest is JSON.
import { decodePushes, encodePushes } from './pushCodec';

export type NodeMessage =
  /** A node gave a shard up for `to`: acquire it now instead of at the next tick. */
  | { t: 'released'; shard: number; from: string }
  /** `from` took `shard` (sent to every other live node as it starts serving it): route the shard's traffic there. */
  | { t: 'took'; shard: number; from: string }
  /** `from` gave `shard` up (sent to every other live node): a claim of `from` on it is over. */
  | { t: 'gave'; shard: number; from: string }
  /** A forwarded call for the owner of `shard`; `seq` orders the sender's requests to this node. */
  | { t: 'req'; from: string; id: string; seq: number; shard: number; body: unknown }
  /** The owner's answer to `id`. */
  | { t: 'res'; id: string; ok: boolean; body: unknown }
  /** A change for recipients on this node: the shard's offset, and the offset of the previous push the
   * owner sent this node for that shard (0: none), so that a lost one shows as a gap. */
  | { t: 'push'; shard: number; epoch: string; prev: number; offset: number; body: unknown }
  /** The pushes one node sent this node in one event-loop turn, in the order they were made (one PUBLISH). */
  | { t: 'pushes'; list: Array<{ t: 'push'; shard: number; epoch: string; prev: number; offset: number; body: unknown }> };

const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

export function parseMessage(raw: string): NodeMessage | undefined {
  if (raw.charCodeAt(0) === 91 /* [ */) {
    const list = decodePushes(raw);
    if (list === undefined) return undefined;
    return list.length === 1 ? list[0] : { t: 'pushes', list };
  }
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case 'released':
      return isInt(o.shard) && isStr(o.from) ? { t: 'released', shard: o.shard, from: o.from } : undefined;
    case 'took':
    case 'gave':
      return isInt(o.shard) && isStr(o.from) ? { t: o.t, shard: o.shard, from: o.from } : undefined;
    case 'req':
      return isStr(o.from) && isStr(o.id) && isInt(o.seq) && isInt(o.shard) ? { t: 'req', from: o.from, id: o.id, seq: o.seq, shard: o.shard, body: o.body } : undefined;
    case 'res':
      return isStr(o.id) && typeof o.ok === 'boolean' ? { t: 'res', id: o.id, ok: o.ok, body: o.body } : undefined;
    case 'push':
      return pushOf(o);
    case 'pushes': {
      if (!Array.isArray(o.list)) return undefined;
      const list = [];
      for (const x of o.list as unknown[]) {
        const p = typeof x === 'object' && x !== null ? pushOf(x as Record<string, unknown>) : undefined;
        if (p === undefined) return undefined; // one bad item: the whole message is dropped (a gap the receiver fills)
        list.push(p);
      }
      return { t: 'pushes', list };
    }
    default:
      return undefined;
  }
}

export type Push = Extract<NodeMessage, { t: 'push' }>;

function pushOf(o: Record<string, unknown>): Push | undefined {
  return isInt(o.shard) && isStr(o.epoch) && isInt(o.prev) && isInt(o.offset)
    ? { t: 'push', shard: o.shard, epoch: o.epoch, prev: o.prev, offset: o.offset, body: o.body }
    : undefined;
}

export const encode = (m: NodeMessage): string => (m.t === 'push' ? encodePushes([m]) : m.t === 'pushes' ? encodePushes(m.list) : JSON.stringify(m));
