// The count behind kicking out a Web SDK that loops over its request budget (src/server/tim/overBudget.ts):
// cuts per device within a window, the one that makes maxCuts kicks it out. The real SDKs' side of it is
// test/sdk/budgetLoop.test.ts.
import { describe, expect, it } from 'vitest';
import { BUDGET_CUTS, kickForLooping, nextCuts } from '../../src/server/tim/overBudget';

const limits = { maxCuts: 3, windowMs: 60_000 };

describe('nextCuts', () => {
  it('the first cuts only close; the one that makes maxCuts within the window kicks out', () => {
    let r = nextCuts([], 1000, limits);
    expect(r).toEqual({ cuts: [1000], kick: false });
    r = nextCuts(r.cuts, 5000, limits);
    expect(r).toEqual({ cuts: [1000, 5000], kick: false });
    expect(nextCuts(r.cuts, 9000, limits)).toEqual({ cuts: [1000, 5000, 9000], kick: true });
  });
  it('cuts older than the window are forgotten: a client that loops now and then is never kicked', () => {
    expect(nextCuts([1000, 5000], 61_000, limits)).toEqual({ cuts: [5000, 61_000], kick: false });
    expect(nextCuts([1000, 5000], 1000 + 60_000 + 5000, limits)).toEqual({ cuts: [66_000], kick: false });
  });
  it('a clock that stepped back counts no cut from the future', () => {
    expect(nextCuts([50_000, 60_000], 10_000, limits)).toEqual({ cuts: [10_000], kick: false });
  });
  it('the defaults: the third cut within ten minutes; the close reason says why and what to do', () => {
    expect(BUDGET_CUTS).toEqual({ maxCuts: 3, windowMs: 600_000 });
    expect(nextCuts([0, 1], 599_999).kick).toBe(true);
    expect(nextCuts([0, 1], 600_000).kick).toBe(false);
    const k = kickForLooping();
    expect(k.reason).toBe('request budget exceeded on 3 connections within 600 s: kicked out, log in again');
    expect(Buffer.byteLength(k.reason)).toBeLessThanOrEqual(123); // a close reason's limit
    expect(k.push).toEqual({ EventArray: [{ Event: 7, C2cNotifyMsgArray: [{ KickoutMsgNotify: { KickType: 3, NewInstInfo: {} } }] }] });
  });
});
