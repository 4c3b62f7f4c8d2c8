// EXT-7 flap damping: which changes start a hold, which end it, and whether its end is news to others.
// Pure; the hold itself (and its grace timer) is run by src/engine/status.ts.
import type { Reason } from '../../../machines/spec';

/** A change caused by a lost link. */
export const isLinkLoss = (reason: Reason): boolean => reason === 'link_closed' || reason === 'heartbeat_timeout';

/** A change by which the user is back: it ends a hold at once. */
export const isComeback = (reason: Reason): boolean => reason === 'reconnect' || reason === 'login' || reason === 'foreground';

/** A lost link, with a grace set, starts holding the change back from others (never while replaying). */
export const startsHold = (reason: Reason, graceMs: number, replaying: boolean): boolean => graceMs > 0 && !replaying && isLinkLoss(reason);

/** The end of a hold is news to others only if the status they saw changed. */
export const holdIsNews = (before: { statusType: number; customStatus: string }, latest: { statusType: number; customStatus: string }): boolean =>
  before.statusType !== latest.statusType || before.customStatus !== latest.customStatus;
