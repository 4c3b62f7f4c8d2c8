// The Web SDK gateway and a client that keeps on over its request budget (src/server/requestBudget.ts says
// when): its socket is cut (1008). The real SDKs ignore the close code and reconnect at once with their session
// key, loop and all (test/sdk/budgetLoop.test.ts: a new socket and a relogin every few seconds, for ever), so
// the cuts are counted per device, across its sockets, and the one that makes `maxCuts` within `windowMs`
// kicks the device out instead: the one thing the SDK honours (it tells the app KICKED_OUT and stops
// reconnecting as that user). The count is pure (`nextCuts`); the socket acts on it (connection.ts).
import { KICK_TYPE_REST_API, kickOutBody } from '../../protocol/tim/wire';

export interface BudgetCutLimits {
  /** Cuts of one device within the window, the last of which kicks it out. */
  maxCuts: number;
  windowMs: number;
}

/** Three loops in ten minutes: an app that was only bursting is never cut at all, a looping one stops at the third. */
export const BUDGET_CUTS: Readonly<BudgetCutLimits> = Object.freeze({ maxCuts: 3, windowMs: 10 * 60_000 });

/** The device's cuts within the window once one more happens at `now` (clock time), and whether it is kicked out. */
export function nextCuts(cuts: readonly number[], now: number, limits: BudgetCutLimits = BUDGET_CUTS): { cuts: number[]; kick: boolean } {
  // A clock that stepped back leaves no cut "in the future" to count.
  const kept = cuts.filter((t) => t <= now && now - t < limits.windowMs);
  kept.push(now);
  return { cuts: kept, kick: kept.length >= limits.maxCuts };
}

/** The close reason and the push that kick a looping device out. */
export function kickForLooping(limits: BudgetCutLimits = BUDGET_CUTS): { reason: string; push: unknown } {
  return {
    reason: `request budget exceeded on ${limits.maxCuts} connections within ${Math.round(limits.windowMs / 1000)} s: kicked out, log in again`,
    push: kickOutBody(KICK_TYPE_REST_API),
  };
}
