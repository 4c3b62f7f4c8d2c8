// The in-memory replay start as MemoryStore takes it (compaction, issue 9): taking one copies nothing but the
// pending timers' list; the store's writes after it keep what they replace (copy on write, src/store/before.ts),
// and the state at the start is read back through the live maps only when somebody asks (replayStart).
import type { AccessContext } from '../../machines/access';
import { Before } from './before';
import type { Capture, EngineMemory } from './snapshot';
import type { Notice, PendingTimer, StatusRecord, SubscriptionsRecord } from './types';

/** The store's maps a start is read through (the live ones, never replaced). */
export interface LiveMaps {
  users: ReadonlySet<string>;
  status: ReadonlyMap<string, StatusRecord>;
  subs: ReadonlyMap<string, SubscriptionsRecord>;
  friends: ReadonlyMap<string, ReadonlySet<string>>;
  notices: ReadonlyMap<string, Notice>;
  pending: ReadonlyMap<string, PendingTimer>;
}

/** What a write of a record kept by the start copies first (the store writes its own records in place). */
export const copyRecord = (r: StatusRecord): StatusRecord => ({ value: r.value, context: r.context, seq: r.seq, views: r.views, flap: r.flap });
/** What a write of a friend set copies first (the store changes its sets in place). */
export const copySet = (s: ReadonlySet<string>): ReadonlySet<string> => new Set(s);

/**
 * The replay start as it is taken (between transactions), before anybody reads it: what the live maps cannot
 * say, and per map what its keys written since held then. Most are replaced by the next one unread, so taking
 * one costs nothing and a write pays one lookup.
 */
export interface Taken {
  seq: number;
  at: number;
  settings: AccessContext;
  /** Users are only added (a rollback removes only those its transaction added): the first this many are the start's. */
  users: number;
  status: Before<StatusRecord>;
  subscriptions: Before<SubscriptionsRecord>;
  friends: Before<ReadonlySet<string>>;
  notices: Before<Notice>;
  /**
   * The pending timers in the store's order (timers due at one instant fire in it), copied when taken: a list of
   * pointers (timers are replaced, never changed in place), where reading through would move a rewritten one last.
   */
  timers: PendingTimer[];
  engine: EngineMemory;
}

export function takeStart(live: LiveMaps, seq: number, at: number, settings: AccessContext, engine: EngineMemory): Taken {
  return {
    seq,
    at,
    settings,
    users: live.users.size,
    status: new Before(),
    subscriptions: new Before(),
    friends: new Before(),
    notices: new Before(),
    timers: [...live.pending.values()],
    engine,
  };
}

/** The state at the start taken: the live maps read through what their keys held then. */
export function stateAtStart(t: Taken, live: LiveMaps): Capture {
  const users: string[] = [];
  for (const id of live.users) {
    if (users.length === t.users) break;
    users.push(id);
  }
  return {
    kind: 'capture',
    seq: t.seq,
    at: t.at,
    settings: t.settings,
    users,
    status: t.status.view(live.status),
    subscriptions: t.subscriptions.view(live.subs),
    friends: t.friends.view(live.friends),
    notices: t.notices.view(live.notices),
    timers: t.timers,
    engine: t.engine,
  };
}
