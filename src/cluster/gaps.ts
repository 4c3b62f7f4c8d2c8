// Pure gap detection for pushes between nodes. PUB/SUB is at most once, so each push says the shard's
// offset and the offset of the owner's previous push to this node; a receiver that sees a hole reads the
// missing commands from the shard's stream (ShardLog.readAfter) and derives its recipients' changes from
// them, before it delivers the push. An epoch change means the history is gone: recipients resync whole.

export interface PushCursor {
  epoch: string;
  /** The offset of the last command this node delivered for the shard. */
  offset: number;
}
export interface PushHeader {
  epoch: string;
  prev: number;
  offset: number;
}
export type PushVerdict =
  | { kind: 'deliver' }
  /** Read commands from+1..to from the log (filtered by recipient), then deliver. */
  | { kind: 'gap'; from: number; to: number }
  | { kind: 'duplicate' }
  /** The shard's stream was lost or replaced: resync recipients from current state, not from the log. */
  | { kind: 'epoch'; epoch: string };

export function admitPush(cursor: PushCursor | undefined, p: PushHeader): PushVerdict {
  // First push since this node started following the shard: nothing to compare with. Its recipients got
  // the state when they connected (resume by version), so there is no hole to fill.
  if (cursor === undefined) return { kind: 'deliver' };
  if (p.epoch !== cursor.epoch) return { kind: 'epoch', epoch: p.epoch };
  if (p.offset <= cursor.offset) return { kind: 'duplicate' };
  if (p.prev === cursor.offset) return { kind: 'deliver' };
  // Either a push was lost (prev > cursor) or a new owner's chain began (prev < cursor): the log says which
  // commands there were; reading it is safe both ways.
  return { kind: 'gap', from: cursor.offset, to: p.offset - 1 };
}

/** The cursor after the push was delivered (and any gap filled). */
export function advance(cursor: PushCursor | undefined, p: PushHeader, v: PushVerdict): PushCursor | undefined {
  if (v.kind === 'duplicate') return cursor;
  return { epoch: p.epoch, offset: p.offset };
}
