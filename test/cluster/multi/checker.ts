// The chaos checker (issue 13 item 6): a pure function from what the clients recorded during a chaos run
// (each acknowledged setSelfStatus with the status it returned, every status each device heard, in order)
// and the final truth (REST queryStatus after quiescence) to the five counts the issue asks for. No I/O, no
// clock: the tests and the bench fabricate or record histories and hand them over.

/** A status as the clients and REST see it (EXT-1, EXT-2). */
export interface Observed {
  userID: string;
  statusType: number;
  customStatus: string;
  version: number;
  reason?: string;
}

/** One acknowledged setSelfStatus: the status its reply carried. Every call sets a customStatus of its own. */
export type Ack = Observed;

/** What a device heard about a user: a push, or the answer of a read (getUserStatus), in the order heard. */
export interface Heard {
  deviceId: string;
  /** The user it is about (the Observed's userID). */
  status: Observed;
  kind?: 'push' | 'read';
}

export interface ChaosHistory {
  acks: Ack[];
  heard: Heard[];
  /** REST queryStatus of every user, after quiescence. */
  truth: Observed[];
  /** Devices alive at the end, and the users each one follows (subscribed to): their views must equal the truth. */
  follows: Array<{ deviceId: string; about: string[] }>;
  /** Users all of whose devices went away for good (their node killed, never reconnected): `truth` must be
   * taken at least twice the heartbeat timeout after they went, and shows each of them offline. */
  gone: string[];
}

export interface ChaosReport {
  /** Acknowledged writes the system forgot: the truth is behind them, or their version now means another status. */
  lost: Array<{ ack: Ack; why: string }>;
  /** A version of a user heard as another status than the one acknowledged at it: one of the two was forgotten (a
   * delivered status lost by a new owner, or an ack's version handed out again); which one, the record cannot say. */
  reused: Array<{ ack: Ack; heard: Observed }>;
  /** One call's write applied at two versions, or one device handed the same version of a user twice. */
  duplicates: Array<{ kind: 'applied' | 'delivered'; userID: string; customStatus: string; versions: number[]; deviceId?: string }>;
  /** A device heard an older version of a user after a newer one. */
  regressions: Array<{ deviceId: string; userID: string; after: number; got: number }>;
  /** A live device's last view of a user it follows differs from the truth. */
  staleViews: Array<{ deviceId: string; userID: string; view: Observed | null; truth: Observed | null }>;
  /** A gone user still online (or unknown to the truth). */
  ghosts: string[];
  ok: boolean;
}

/** USER_STATUS_ONLINE (machines/spec.ts TYPES): a gone user must be anything but this (UNLOGINED for a dropped web device). */
export const ONLINE = 1;
const CUSTOM_SET = 'custom_status_set';

const value = (s: Observed) => `${s.statusType}|${s.customStatus}`;
const key = (userID: string, version: number) => `${userID}\u0000${version}`;

export function checkHistory(h: ChaosHistory): ChaosReport {
  const truth = new Map(h.truth.map((t) => [t.userID, t]));
  const report: ChaosReport = { lost: [], reused: [], duplicates: [], regressions: [], staleViews: [], ghosts: [], ok: true };

  // Lost: every version of a user names one status for ever. An ack the truth is behind, or whose version
  // the truth or a later ack gives another status, was forgotten (a new owner handed its version out again).
  const lastAckAt = new Map<string, Ack>();
  for (const a of h.acks) lastAckAt.set(key(a.userID, a.version), a);
  const ackedValues = new Map<string, Set<string>>();
  for (const a of h.acks) ackedValues.set(key(a.userID, a.version), (ackedValues.get(key(a.userID, a.version)) ?? new Set()).add(value(a)));
  // A heard status at an acknowledged version that no ack had (an ack against ack is counted above).
  const heardAt = new Map<string, Observed>();
  for (const x of h.heard) {
    const k = key(x.status.userID, x.status.version);
    if (ackedValues.has(k) && !ackedValues.get(k)!.has(value(x.status))) heardAt.set(k, x.status);
  }
  for (const a of h.acks) {
    const t = truth.get(a.userID);
    if (t === undefined) report.lost.push({ ack: a, why: 'the user is not in the truth' });
    else if (t.version < a.version) report.lost.push({ ack: a, why: `the truth is at version ${t.version}, behind it` });
    else if (t.version === a.version && value(t) !== value(a)) report.lost.push({ ack: a, why: `version ${a.version} is now '${t.customStatus}'` });
    else {
      const later = lastAckAt.get(key(a.userID, a.version))!;
      const heard = heardAt.get(key(a.userID, a.version));
      if (value(later) !== value(a)) report.lost.push({ ack: a, why: `version ${a.version} was acknowledged again as '${later.customStatus}'` });
      else if (heard !== undefined && value(heard) !== value(a)) report.reused.push({ ack: a, heard });
    }
  }

  // Applied twice: a customStatus set by one call appears as a set at two versions.
  const setAt = new Map<string, Set<number>>();
  const noteSet = (s: Observed) => {
    if (s.reason !== undefined && s.reason !== CUSTOM_SET) return;
    const k = `${s.userID}\u0000${s.customStatus}`;
    if (!setAt.has(k)) setAt.set(k, new Set());
    setAt.get(k)!.add(s.version);
  };
  for (const a of h.acks) noteSet(a);
  for (const x of h.heard) if (x.status.reason === CUSTOM_SET) noteSet(x.status);
  for (const [k, versions] of setAt) {
    if (versions.size < 2) continue;
    const [userID, customStatus] = k.split('\u0000') as [string, string];
    report.duplicates.push({ kind: 'applied', userID, customStatus, versions: [...versions].sort((x, y) => x - y) });
  }

  // Per device and user: versions only go up; one version heard twice (as pushes) is a duplicate delivery.
  const newest = new Map<string, Map<string, Observed>>();
  const pushed = new Set<string>();
  for (const x of h.heard) {
    const views = newest.get(x.deviceId) ?? new Map<string, Observed>();
    newest.set(x.deviceId, views);
    const s = x.status;
    const before = views.get(s.userID);
    if ((x.kind ?? 'push') === 'push') {
      const k = `${x.deviceId}\u0000${key(s.userID, s.version)}`;
      if (pushed.has(k)) report.duplicates.push({ kind: 'delivered', userID: s.userID, customStatus: s.customStatus, versions: [s.version], deviceId: x.deviceId });
      pushed.add(k);
    }
    if (before !== undefined && s.version < before.version) {
      report.regressions.push({ deviceId: x.deviceId, userID: s.userID, after: before.version, got: s.version });
      continue; // the view stays the newer one; the regression is counted
    }
    views.set(s.userID, s);
  }

  for (const f of h.follows) {
    for (const u of f.about) {
      const view = newest.get(f.deviceId)?.get(u) ?? null;
      const t = truth.get(u) ?? null;
      const same = view !== null && t !== null && view.version === t.version && value(view) === value(t);
      if (!same) report.staleViews.push({ deviceId: f.deviceId, userID: u, view, truth: t });
    }
  }

  for (const u of h.gone) {
    const t = truth.get(u);
    if (t === undefined || t.statusType === ONLINE) report.ghosts.push(u);
  }

  report.ok = report.lost.length + report.reused.length + report.duplicates.length + report.regressions.length + report.staleViews.length + report.ghosts.length === 0;
  return report;
}

/** One line per count, for a test's failure message and the bench's log. */
export function summarize(r: ChaosReport): string {
  return (
    `lost ${r.lost.length}, reused versions ${r.reused.length}, duplicates ${r.duplicates.length}, regressions ${r.regressions.length}, ` +
    `stale views ${r.staleViews.length}, ghosts ${r.ghosts.length}` +
    (r.ok ? '' : `\n${JSON.stringify({ lost: r.lost.slice(0, 5), reused: r.reused.slice(0, 5), duplicates: r.duplicates.slice(0, 5), regressions: r.regressions.slice(0, 5), staleViews: r.staleViews.slice(0, 5), ghosts: r.ghosts.slice(0, 5) })}`)
  );
}
