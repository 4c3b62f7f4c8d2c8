// A replay start (issue 9, compaction): the engine's whole replayable state at one journal seq, so that a
// bounded journal still replays (this snapshot, then the entries after it). Versioned like the store's records
// (format.ts names states by value, timers by delay), plain JSON, read back through migrations. Pure.
import type { AccessContext } from '../../machines/access';
import type { JournalEntry, Notice, PendingTimer, StatusRecord, SubscriptionsRecord } from '../records';
import type { StateValue } from 'xstate';
import { fromStored, pathOfStateValue, RECORD_FORMAT, stateValueOf, statusFromStored, statusToStored, subsFromStored, subsToStored, toStored } from './format';
import type { Store } from './types';

/** The version of every snapshot written today; `readSnapshot` migrates older ones and refuses newer. */
export const SNAPSHOT_FORMAT = 1;
export const SNAPSHOT_KIND = 'status-engine.snapshot';

/** A machine's record as stored (format.ts): its state value, context and RECORD_FORMAT. */
export type StoredRecord = Record<string, unknown>;

/**
 * What the engine holds besides its store and a replay rebuilds: the rate windows (LIM-1, by api and owner)
 * and the links no session holds that wait out a heartbeat timeout (DEV-2/3, by device), as stored records.
 */
export interface EngineMemory {
  rates: Array<[string, StoredRecord]>;
  links: Array<[string, StoredRecord]>;
}

export interface Snapshot {
  kind: typeof SNAPSHOT_KIND;
  format: number;
  /** The journal position it stands at: a replay goes on with the entry seq + 1. */
  seq: number;
  /** When it was taken (the engine's clock: the time of its last entry). */
  at: number;
  settings: AccessContext;
  /** Registered users, in registration order. */
  users: string[];
  status: Array<[string, StoredRecord]>;
  subscriptions: Array<[string, StoredRecord]>;
  /** Each user's own friend list (the reverse index, like the subscribers of a user, is rebuilt). */
  friends: Array<[string, string[]]>;
  notices: Array<[string, Notice]>;
  /** Pending durable timers, in the order they were armed (timers due at one instant fire in it). */
  timers: PendingTimer[];
  engine: EngineMemory;
}

export const emptyEngineMemory = (): EngineMemory => ({ rates: [], links: [] });

/**
 * The snapshot of `store` as it stands (between commands) at `seq`, with the engine's own memory. `copy:
 * false` (a caller that serializes it at once, a cluster shard): the settings, notices, timers and `engine`
 * are the live objects, not copies, so the result must not be kept or changed.
 */
export function takeSnapshot(store: Store, seq: number, at: number, engine: EngineMemory = emptyEngineMemory(), options: { copy?: boolean } = {}): Snapshot {
  const copy = options.copy !== false;
  const users: string[] = [];
  const status: Snapshot['status'] = [];
  const subscriptions: Snapshot['subscriptions'] = [];
  const friends: Snapshot['friends'] = [];
  const notices: Snapshot['notices'] = [];
  // Every record belongs to a registered user (a mirrored edge's remote user is registered at its owner only,
  // so the friend and subscription records of such a user are found through the reverse indexes too).
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const rec = store.getStatus(id);
    if (rec) status.push([id, statusToStored(rec)]);
    const subs = store.getSubscriptions(id);
    if (subs) subscriptions.push([id, { ...subsToStored(subs) }]);
    const f = store.friendsOf(id);
    if (f && f.size > 0) friends.push([id, [...f]]);
    const n = store.getNotice(id);
    if (n) notices.push([id, copy ? structuredClone(n) : n]);
  };
  for (const id of store.userIDs()) {
    users.push(id);
    visit(id);
  }
  for (const id of store.userIDs()) {
    for (const s of store.subscribersOf(id) ?? []) visit(s);
    for (const f of store.followersOf(id) ?? []) visit(f);
  }
  const settings = store.getSettings();
  if (!settings) throw new Error('a store without settings cannot be snapshotted (no engine has opened it)');
  return {
    kind: SNAPSHOT_KIND,
    format: SNAPSHOT_FORMAT,
    seq,
    at,
    settings: copy ? structuredClone(settings) : settings,
    users,
    status,
    subscriptions,
    friends,
    notices,
    timers: copy ? [...store.timers()].map((t) => ({ ...t })) : [...store.timers()],
    engine: copy ? structuredClone(engine) : engine,
  };
}

/**
 * The state at the in-memory store's replay start, as MemoryStore reads it back when somebody asks (its maps
 * as they are now, each key written since the start read through what it held then: src/store/before.ts).
 * Records and sets may be the live ones: `snapshotOfCapture` turns it into a snapshot at once.
 */
export interface Capture {
  kind: 'capture';
  seq: number;
  at: number;
  settings: AccessContext;
  users: string[];
  status: Map<string, StatusRecord>;
  subscriptions: Map<string, SubscriptionsRecord>;
  friends: ReadonlyMap<string, ReadonlySet<string>>;
  notices: Map<string, Notice>;
  timers: PendingTimer[];
  engine: EngineMemory;
}

export function snapshotOfCapture(c: Capture): Snapshot {
  return {
    kind: SNAPSHOT_KIND,
    format: SNAPSHOT_FORMAT,
    seq: c.seq,
    at: c.at,
    settings: structuredClone(c.settings),
    users: [...c.users],
    status: [...c.status].map(([id, r]) => [id, statusToStored(r)]),
    subscriptions: [...c.subscriptions].map(([id, r]) => [id, { ...subsToStored(r) }]),
    friends: [...c.friends].map(([id, f]) => [id, [...f]]),
    notices: [...c.notices].map(([id, n]) => [id, structuredClone(n)]),
    timers: c.timers.map((t) => ({ ...t })),
    engine: structuredClone(c.engine),
  };
}

/** Where a snapshot's content is not what this build reads: the path of the field and what was expected. */
export class SnapshotError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SnapshotError';
  }
}

/**
 * Forward migrations of the snapshot's own shape: entry i takes format i + 1 to i + 2. Append only. The
 * records inside carry their own RECORD_FORMAT (format.ts), migrated by the store's own readers.
 */
export const SNAPSHOT_MIGRATIONS: ReadonlyArray<(s: Record<string, unknown>) => Record<string, unknown>> = [];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function pairs(s: Record<string, unknown>, field: string, value: (v: unknown, at: string) => void): void {
  const list = s[field];
  if (!Array.isArray(list)) throw new SnapshotError(field, 'expected an array of [key, value] pairs');
  list.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string') throw new SnapshotError(`${field}[${i}]`, 'expected a [string, value] pair');
    value(p[1], `${field}[${i}]`);
  });
}

const record = (v: unknown, at: string) => {
  if (!isObject(v) || v.format !== RECORD_FORMAT) throw new SnapshotError(at, `expected a stored record of format ${RECORD_FORMAT}`);
};

/** Checks a snapshot read from outside (JSON) and brings it to SNAPSHOT_FORMAT; throws SnapshotError. */
export function readSnapshot(raw: unknown): Snapshot {
  if (!isObject(raw) || raw.kind !== SNAPSHOT_KIND) throw new SnapshotError('kind', `expected a snapshot ({kind: '${SNAPSHOT_KIND}', ...})`);
  const format = raw.format;
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) throw new SnapshotError('format', 'expected a whole number of 1 or more');
  if (format > SNAPSHOT_FORMAT) throw new SnapshotError('format', `snapshot format ${format} is newer than this build reads (up to ${SNAPSHOT_FORMAT}): upgrade status-engine`);
  let s: Record<string, unknown> = raw;
  for (let v = format; v < SNAPSHOT_FORMAT; v++) s = (SNAPSHOT_MIGRATIONS[v - 1] as (x: Record<string, unknown>) => Record<string, unknown>)(s);
  if (!isSeq(s.seq)) throw new SnapshotError('seq', 'expected a whole number of 0 or more');
  if (typeof s.at !== 'number' || !Number.isFinite(s.at)) throw new SnapshotError('at', 'expected a time in ms');
  if (!isObject(s.settings) || !isObject(s.settings.limits) || typeof s.settings.edition !== 'string') throw new SnapshotError('settings', 'expected the engine settings {edition, switches, limits}');
  if (!Array.isArray(s.users) || !s.users.every((u) => typeof u === 'string')) throw new SnapshotError('users', 'expected an array of userIDs');
  pairs(s, 'status', record);
  pairs(s, 'subscriptions', record);
  pairs(s, 'friends', (v, at) => {
    if (!Array.isArray(v) || !v.every((f) => typeof f === 'string')) throw new SnapshotError(at, 'expected a list of friend userIDs');
  });
  pairs(s, 'notices', (v, at) => {
    if (!isObject(v) || !Array.isArray(v.userIDList)) throw new SnapshotError(at, 'expected a notice {userIDList, reason}');
  });
  if (!Array.isArray(s.timers)) throw new SnapshotError('timers', 'expected an array of pending timers');
  s.timers.forEach((t, i) => {
    if (!isObject(t) || typeof t.key !== 'string' || typeof t.due !== 'number' || typeof t.machine !== 'string' || typeof t.owner !== 'string' || typeof t.delay !== 'string' || typeof t.state !== 'string') {
      throw new SnapshotError(`timers[${i}]`, 'expected a pending timer {key, due, machine, owner, delay, state}');
    }
  });
  const engine = s.engine;
  if (!isObject(engine)) throw new SnapshotError('engine', 'expected the engine memory {rates, links}');
  pairs(engine, 'rates', record);
  pairs(engine, 'links', record);
  return s as unknown as Snapshot;
}

/** The store's part of a snapshot as the engine's records (state ids), ready to be written into a store. */
export interface SnapshotRecords {
  status: Array<[string, StatusRecord]>;
  subscriptions: Array<[string, SubscriptionsRecord]>;
}

export function recordsOf(s: Snapshot): SnapshotRecords {
  const decode = <T>(read: () => T, at: string): T => {
    try {
      return read();
    } catch (e) {
      throw new SnapshotError(at, (e as Error).message);
    }
  };
  return {
    status: s.status.map(([id, r], i) => [id, decode(() => statusFromStored(r), `status[${i}]`)]),
    subscriptions: s.subscriptions.map(([id, r], i) => [id, decode(() => subsFromStored(r), `subscriptions[${i}]`)]),
  };
}

/**
 * A machine record of the engine's memory (a rate window, a link: `{value, context}`) as stored, and back:
 * toStored / fromStored written out for these two fields, since a shard holds one rate window per user and
 * API and converts them at every snapshot and takeover. Anything unexpected goes through the general ones
 * (which throw the same errors).
 */
export const memoryToStored = (machineId: string, rec: { value: string; context: unknown }): StoredRecord => {
  if (!rec.value.startsWith(machineId) || rec.value.charCodeAt(machineId.length) !== 46 /* . */) return { ...toStored(machineId, rec) };
  const path = rec.value.slice(machineId.length + 1);
  return { value: path.includes('.') ? stateValueOf(path) : path, context: rec.context, format: RECORD_FORMAT };
};
export const memoryFromStored = <R extends { value: string }>(machineId: string, o: StoredRecord): R => {
  if (o.format !== RECORD_FORMAT || Object.keys(o).length !== 3) return fromStored<R>(machineId, o);
  const v = o.value;
  return { context: o.context, value: `${machineId}.${typeof v === 'string' ? v : pathOfStateValue(v as StateValue)}` } as unknown as R;
};

/** The entries of `entries` a replay from `snapshot` applies: those after its seq (the ones at or before it are in it). */
export function tailAfter(snapshot: Snapshot, entries: readonly JournalEntry[]): JournalEntry[] {
  return entries.filter((e) => e.seq > snapshot.seq);
}
