// EXT-2 resume: which users a returning device is brought up to date on, and which of them changed while
// it was away. Pure: the engine gathers the records, this decides.
import type { UserStatus } from '../../records';

/** The device's own user, its subscriptions, and (with friend auto-notification on) its friends. */
export function resumeScope(self: string, subscriptions: readonly string[], friends: ReadonlySet<string> | undefined, friendNotify: boolean): Set<string> {
  const scope = new Set<string>([self]);
  for (const id of subscriptions) scope.add(id);
  if (friendNotify && friends) for (const f of friends) scope.add(f);
  return scope;
}

export interface ResumeCandidate {
  /** The seq at which this viewer was last shown a change of the user. */
  changedAt: number;
  status: UserStatus;
  /** The version the client says it holds, if it passed one. */
  held?: number;
}

/**
 * The statuses to send, oldest change first: changed after `since` (everything up to it was heard), before
 * `liveFrom` (from there on it hears live), and newer than what the client holds.
 */
export function resumeBatch(candidates: Iterable<ResumeCandidate>, since: number, liveFrom: number): UserStatus[] {
  const out: ResumeCandidate[] = [];
  for (const c of candidates) {
    if (c.changedAt <= since || c.changedAt >= liveFrom) continue;
    if ((c.held ?? -1) >= c.status.version) continue;
    out.push(c);
  }
  out.sort((a, b) => a.changedAt - b.changedAt);
  return out.map((c) => c.status);
}

export interface HeldVersion {
  /** The user's status as this viewer sees it now (read at the user's owner). */
  status: UserStatus;
  /** The version of it the device holds: what the client passed, or what the engine saw it hear; none: nothing. */
  held?: number;
}

/**
 * The batch by versions alone, for engines side by side (no sequence spans them): each user in scope whose
 * version moved past what the device holds, current, once; a user it holds nothing of only once it changed
 * at all. In scope order (the user, its subscriptions as made, its friends): changes of different users on
 * different engines have no common order, and each user comes once, so NTF-6 holds per user.
 */
export function resumeByVersions(candidates: Iterable<HeldVersion>): UserStatus[] {
  const out: UserStatus[] = [];
  for (const c of candidates) if (c.status.version > (c.held ?? 0)) out.push(c.status);
  return out;
}
