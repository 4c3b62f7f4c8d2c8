// Pushes between nodes are at most once: the rule that turns a lost push into a read of the shard's log.
import { describe, expect, it } from 'vitest';
import { admitPush, advance } from '../../src/cluster/gaps';

describe('push gaps', () => {
  const at = { epoch: 'E', offset: 10 };
  it('delivers the next push of the chain and moves the cursor', () => {
    const p = { epoch: 'E', prev: 10, offset: 14 };
    const v = admitPush(at, p);
    expect(v).toEqual({ kind: 'deliver' });
    expect(advance(at, p, v)).toEqual({ epoch: 'E', offset: 14 });
  });
  it('a lost push shows as a gap to fill from the log before delivering', () => {
    const p = { epoch: 'E', prev: 12, offset: 15 };
    expect(admitPush(at, p)).toEqual({ kind: 'gap', from: 10, to: 14 });
    expect(advance(at, p, admitPush(at, p))).toEqual({ epoch: 'E', offset: 15 });
  });
  it("a new owner's chain (prev behind the cursor) is read from the log too, never skipped", () => {
    expect(admitPush(at, { epoch: 'E', prev: 0, offset: 12 })).toEqual({ kind: 'gap', from: 10, to: 11 });
  });
  it('drops a push it already delivered (a duplicate or a late one)', () => {
    expect(admitPush(at, { epoch: 'E', prev: 8, offset: 10 })).toEqual({ kind: 'duplicate' });
    expect(advance(at, { epoch: 'E', prev: 8, offset: 10 }, { kind: 'duplicate' })).toBe(at);
  });
  it('an epoch change means the history is gone: resync, not a log read', () => {
    expect(admitPush(at, { epoch: 'F', prev: 0, offset: 1 })).toEqual({ kind: 'epoch', epoch: 'F' });
  });
  it('the first push for a shard is delivered as is', () => {
    expect(admitPush(undefined, { epoch: 'E', prev: 7, offset: 9 })).toEqual({ kind: 'deliver' });
  });
});
