// EXT-5 visibility and issue 17 (EXT-2 as a viewer sees it): what each class of viewers (the user's friends,
// everyone else) is shown of a user, and when that moves. Pure data in, data out; the engine stores the
// result in the user's record and the fan-out tells the classes this returns.
import { TYPES } from '../../../machines/spec';
import type { Visibility } from '../../../machines/userStatus';
import type { ShownView, UserStatus, Views } from '../../records';

/** Viewers fall in two classes: `friends` (in the user's own friend list) and `others`. */
export type ViewerClass = 'friends' | 'others';
export const CLASSES: readonly ViewerClass[] = ['friends', 'others'];

export const classOf = (isFriend: boolean): ViewerClass => (isFriend ? 'friends' : 'others');

/** EXT-5: whether a class may see the status under `visibility` (friends: the user's own friend list). */
export function sees(visibility: Visibility, cls: ViewerClass): boolean {
  return visibility === 'everyone' || (visibility === 'friends' && cls === 'friends');
}

/** What a hidden user shows (EXT-5): UNLOGINED, no custom status, and one version until it shows itself again. */
export function hiddenView(version: number, seq: number): ShownView {
  return { statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version, reason: 'visibility_changed', seq };
}

type Status = Omit<ShownView, 'seq'>;

const shown = (s: Status, seq: number): ShownView => ({
  statusType: s.statusType,
  customStatus: s.customStatus,
  version: s.version,
  reason: s.reason,
  seq,
});

/** The views when nothing is hidden or held back: both classes see the status itself, told at `seq`. */
export function plainViews(status: Status, seq: number): Views {
  const v = shown(status, seq);
  return { friends: v, others: v };
}

/**
 * A change others may hear (not held back, EXT-7): each class that sees the user takes it and is told;
 * a class that does not see keeps its hidden view, unchanged (issue 17: no new version for it).
 */
export function statusShown(
  views: Views | undefined,
  visibility: Visibility,
  status: Status,
  seq: number,
  see = sees,
): { views: Views | undefined; told: readonly ViewerClass[] } {
  const friends = see(visibility, 'friends');
  const others = see(visibility, 'others');
  // Told to both classes, the views are plain again (both see the status itself): undefined.
  if (friends && others) return PLAIN;
  if (!friends && !others) return { views, told: NONE };
  if (views === undefined) throw new Error('statusShown: the views of a user not seen by everyone are kept, never plain');
  const v = shown(status, seq);
  return friends ? { views: { friends: v, others: views.others }, told: FRIENDS } : { views: { friends: views.friends, others: v }, told: OTHERS };
}

const NONE: readonly ViewerClass[] = [];
/** The answer for a user seen by everyone (most users, every change): one shared, read-only object. */
const PLAIN: { views: undefined; told: readonly ViewerClass[] } = Object.freeze({ views: undefined, told: CLASSES });
const FRIENDS: readonly ViewerClass[] = ['friends'];
const OTHERS: readonly ViewerClass[] = ['others'];

/**
 * A change of visibility: only a class whose sight flips is told (EXT-5), hidden -> the status, shown ->
 * the hidden view at this version. A class whose view stays keeps it whole, version included (issue 17:
 * a switch to 'friends' is no news to friends; a second change of an already hidden user none to the hidden).
 */
export function visibilityChanged(
  views: Views,
  from: Visibility,
  to: Visibility,
  status: Status,
  seq: number,
  see = sees,
): { views: Views; told: ViewerClass[] } {
  const next: Views = { ...views };
  const told: ViewerClass[] = [];
  for (const c of CLASSES) {
    const before = see(from, c);
    const after = see(to, c);
    if (before === after) continue;
    next[c] = after ? shown(status, seq) : hiddenView(status.version, seq);
    told.push(c);
  }
  return { views: next, told };
}

/** The record keeps views only while they differ from the status itself told at `seq` (most users: never). */
export function compact(views: Views | undefined, status: Status, seq: number): Views | undefined {
  if (views === undefined) return undefined;
  const same = (v: ShownView) =>
    v.seq === seq && v.version === status.version && v.statusType === status.statusType && v.customStatus === status.customStatus && v.reason === status.reason;
  return same(views.friends) && same(views.others) ? undefined : views;
}

/** What `viewer` (of class `cls`) sees of `userID`. */
export function viewOf(userID: string, views: Views | undefined, cls: ViewerClass, status: Status): UserStatus {
  const v = views?.[cls];
  if (!v) return { userID, statusType: status.statusType, customStatus: status.customStatus, version: status.version, reason: status.reason };
  return { userID, statusType: v.statusType, customStatus: v.customStatus, version: v.version, reason: v.reason };
}
