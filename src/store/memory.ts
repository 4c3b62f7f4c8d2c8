// The in-memory store: plain Maps and Sets, sized for a million users (a user who never logged in costs
// one registry entry and nothing else). Durable stores extend it: they write their own medium first, then
// call these methods, whose undo log makes the memory side of `transaction` atomic for them too.
import type { AccessContext } from '../../machines/access';
import type { Command, JournalEntry } from '../records';
import { DEFAULT_JOURNAL_ENTRIES, JournalRing, statusEntry } from './journalRing';
import { emptyEngineMemory, recordsOf, snapshotOfCapture, type EngineMemory, type Snapshot } from './snapshot';
import { copyRecord, copySet, stateAtStart, takeStart, type LiveMaps, type Taken } from './taken';
import type { Notice, PendingTimer, StatusRecord, StatusStepFields, Store, SubscriptionsRecord } from './types';

// The undo log is one flat array of fixed-size entries [op, a, b, c], not closures or objects: the engine
// runs every command in a transaction, and this keeps the cost of a logged write to four slot stores (no
// allocation while the array has room).
const WIDTH = 4;
/** a: a Map, b: its key, c: the previous value (undefined: the key was absent). */
const MAP_PUT = 0;
/** a: an index (Map of Sets), b: its key, c: the member that was added. */
const MEMBER_ADDED = 1;
/** a: an index (Map of Sets), b: its key, c: the member that was removed. */
const MEMBER_REMOVED = 2;
/** b: the user that was registered. */
const USER_ADDED = 3;
/** b: the previous settings. */
const SETTINGS_PUT = 4;
/** a: the previous seq, b: the previous logStart, c: whether the entry was pushed on the log. */
const APPENDED = 5;
/** A record written in place (patchStatus), in two entries. This, the older one: a: the record, b: its value, c: its context. */
const FIELDS_A = 6;
/** ... and the newer one: a: its seq, b: its views, c: its flap. */
const FIELDS_B = 7;

/** A status record as the store writes it in place (the store's own: see Store.putStatus). */
type OwnRecord = { -readonly [K in keyof StatusRecord]: StatusRecord[K] };

/** Adds `value` to the set at `key`; false if it was there already. */
const addTo = (index: Map<string, Set<string>>, key: string, value: string): boolean => {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  else if (set.has(value)) return false;
  set.add(value);
  return true;
};
/** Removes `value` from the set at `key` (and the set once empty); false if it was not there. */
const removeFrom = (index: Map<string, Set<string>>, key: string, value: string): boolean => {
  const set = index.get(key);
  if (!set || !set.delete(value)) return false;
  if (set.size === 0) index.delete(key);
  return true;
};

export interface MemoryStoreOptions {
  /** Journal entries kept in memory (oldest dropped first, once a transaction ends). Default 100,000; 0 keeps none. */
  journalMaxEntries?: number;
}

export class MemoryStore implements Store {
  readonly kind: string = 'memory';
  protected readonly users = new Set<string>();
  protected readonly status = new Map<string, StatusRecord>();
  protected readonly subs = new Map<string, SubscriptionsRecord>();
  protected readonly subscribers = new Map<string, Set<string>>();
  protected readonly friends = new Map<string, Set<string>>();
  protected readonly followers = new Map<string, Set<string>>();
  protected readonly notices = new Map<string, Notice>();
  protected readonly pending = new Map<string, PendingTimer>();
  protected settings: AccessContext | undefined;
  protected readonly log = new JournalRing();
  protected logStart = 0;
  protected seq = 0;
  protected readonly journalMax: number;
  /** How many transactions are open (nested ones count); writes are logged only while it is above 0. */
  protected txDepth = 0;
  /** How to revert the writes of the open transactions, oldest first: the entries below undoTop. */
  private undo: unknown[] = [];
  private undoTop = 0;

  /** The snapshot the kept journal replays from (issue 9), once read; undefined while it is whole from seq 1. */
  protected start: Snapshot | undefined;
  /** The replay start taken and not read yet (it supersedes `start`), or null (src/store/taken.ts). */
  private taken: Taken | null = null;
  /** The maps a replay start is read through. */
  private readonly liveMaps: LiveMaps = { users: this.users, status: this.status, subs: this.subs, friends: this.friends, notices: this.notices, pending: this.pending };
  protected engineMemory: (() => EngineMemory) | null = null;

  constructor(options: MemoryStoreOptions = {}) {
    this.journalMax = options.journalMaxEntries ?? DEFAULT_JOURNAL_ENTRIES;
    this.log.beforeDrop = (lastDropped) => this.keepStartAhead(lastDropped);
  }

  hasUser(userID: string): boolean {
    return this.users.has(userID);
  }
  addUsers(userIDs: readonly string[]): string[] {
    const added: string[] = [];
    for (const id of userIDs) {
      if (!this.users.has(id)) {
        this.users.add(id);
        if (this.txDepth > 0) this.record(USER_ADDED, undefined, id, undefined);
        added.push(id);
      }
    }
    return added;
  }
  userIDs(): Iterable<string> {
    return this.users;
  }
  userCount(): number {
    return this.users.size;
  }

  getStatus(userID: string): StatusRecord | undefined {
    return this.status.get(userID);
  }
  putStatus(userID: string, record: StatusRecord): void {
    const was = this.status.get(userID);
    this.taken?.status.note(userID, was, copyRecord);
    if (this.txDepth > 0) this.record(MAP_PUT, this.status, userID, was);
    this.status.set(userID, record);
  }
  patchStatus(userID: string, value: string, context: StatusRecord['context'], seq: number, views: StatusRecord['views'], flap: StatusRecord['flap']): void {
    const rec = this.status.get(userID) as OwnRecord | undefined;
    // A new object when there is none to write into, or when a durable store writes its medium in putStatus.
    // A record given to putStatus is the store's from then on (Store.putStatus): it may be written here.
    if (rec === undefined || !this.plainPutStatus) {
      const next: OwnRecord = { value, context, seq, views, flap };
      return this.putStatus(userID, next);
    }
    this.taken?.status.note(userID, rec, copyRecord);
    if (this.txDepth > 0) {
      this.record(FIELDS_A, rec, rec.value, rec.context);
      this.record(FIELDS_B, rec.seq, rec.views, rec.flap);
    }
    rec.value = value;
    rec.context = context;
    rec.seq = seq;
    rec.views = views;
    rec.flap = flap;
  }
  /** Whether `putStatus` is this class's own (a durable store overrides it to write its medium first). */
  private readonly plainPutStatus = this.putStatus === MemoryStore.prototype.putStatus;

  getSubscriptions(userID: string): SubscriptionsRecord | undefined {
    return this.subs.get(userID);
  }
  putSubscriptions(userID: string, record: SubscriptionsRecord, delta: { added: string[]; removed: string[] }): void {
    const logged = this.txDepth > 0;
    const was = this.subs.get(userID);
    this.taken?.subscriptions.note(userID, was);
    if (logged) this.record(MAP_PUT, this.subs, userID, was);
    if (record.context.list.length === 0 && record.value === 'subscriptions.kept') this.subs.delete(userID);
    else this.subs.set(userID, record);
    for (const t of delta.removed) this.removeMember(this.subscribers, t, userID, logged);
    for (const t of delta.added) this.addMember(this.subscribers, t, userID, logged);
  }
  subscribersOf(userID: string): ReadonlySet<string> | undefined {
    return this.subscribers.get(userID);
  }

  friendsOf(userID: string): ReadonlySet<string> | undefined {
    return this.friends.get(userID);
  }
  followersOf(userID: string): ReadonlySet<string> | undefined {
    return this.followers.get(userID);
  }
  addFriends(userID: string, friendIDs: readonly string[]): void {
    const logged = this.txDepth > 0;
    this.taken?.friends.note(userID, this.friends.get(userID), copySet);
    for (const f of friendIDs) {
      this.addMember(this.friends, userID, f, logged);
      this.addMember(this.followers, f, userID, logged);
    }
  }
  removeFriends(userID: string, friendIDs: readonly string[]): void {
    const logged = this.txDepth > 0;
    this.taken?.friends.note(userID, this.friends.get(userID), copySet);
    for (const f of friendIDs) {
      this.removeMember(this.friends, userID, f, logged);
      this.removeMember(this.followers, f, userID, logged);
    }
  }

  getSettings(): AccessContext | undefined {
    return this.settings;
  }
  putSettings(settings: AccessContext): void {
    if (this.txDepth > 0) this.record(SETTINGS_PUT, undefined, this.settings, undefined);
    this.settings = settings;
  }

  getNotice(userID: string): Notice | undefined {
    return this.notices.get(userID);
  }
  putNotice(userID: string, notice: Notice | undefined): void {
    const was = this.notices.get(userID);
    this.taken?.notices.note(userID, was);
    if (this.txDepth > 0) this.record(MAP_PUT, this.notices, userID, was);
    if (notice) this.notices.set(userID, notice);
    else this.notices.delete(userID);
  }

  putTimer(timer: PendingTimer): void {
    const was = this.pending.get(timer.key);
    if (this.txDepth > 0) this.record(MAP_PUT, this.pending, timer.key, was);
    this.pending.set(timer.key, timer);
  }
  deleteTimer(key: string): void {
    const prev = this.pending.get(key);
    if (prev === undefined) return;
    if (this.txDepth > 0) this.record(MAP_PUT, this.pending, key, prev);
    this.pending.delete(key);
  }
  timers(): Iterable<PendingTimer> {
    return this.pending.values();
  }

  append(entry: JournalEntry): void {
    if (this.journalSeq(entry.seq)) {
      this.log.push(entry);
      this.trimJournal();
    }
  }
  appendCommand(seq: number, at: number, by: string, command: Command): void {
    // A store that writes its own medium in `append` gets the entry (its medium comes first).
    if (!this.plainAppend) return this.append({ seq, at, kind: 'command', by, command });
    if (this.journalSeq(seq)) {
      this.log.pushCommand(seq, at, by, command);
      this.trimJournal();
    }
  }
  appendStatusStep(step: StatusStepFields): void {
    if (!this.plainAppend) return this.append(statusEntry(step));
    if (this.journalSeq(step.seq)) {
      this.log.pushStatus(step);
      this.trimJournal();
    }
  }
  /** Whether `append` is this class's own (a durable store overrides it to write its medium first). */
  private readonly plainAppend = this.append === MemoryStore.prototype.append;
  /** An entry's seq moves the store's (logged for a rollback); true if the ring keeps the entry. */
  private journalSeq(seq: number): boolean {
    const keep = this.journalMax > 0;
    if (this.txDepth > 0) this.record(APPENDED, this.seq, this.logStart, keep);
    this.seq = seq;
    if (!keep) this.logStart = seq + 1;
    return keep;
  }
  private trimJournal(): void {
    // Inside a transaction the oldest entries are dropped when it ends (forget), so that a rollback only pops.
    if (this.txDepth === 0) this.log.trim(this.journalMax);
  }
  lastSeq(): number {
    return this.seq;
  }
  firstSeq(): number {
    return this.log.firstSeq() ?? (this.logStart || this.seq + 1);
  }
  readJournal(fromSeq: number, limit: number): JournalEntry[] {
    return this.log.read(fromSeq, limit);
  }
  journalOf(userID: string): JournalEntry[] {
    return this.log.transitionsOf(userID);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The replay start (compaction, issue 9): before the ring drops an entry the replay start does not cover,
  // the state as it stands (between commands, at the last seq) becomes the new start; the entries before it
  // stay for journal() and explain() until the window drops them. A snapshot every window's worth of entries.

  replayStart(): Snapshot | undefined {
    if (this.taken !== null) {
      this.start = snapshotOfCapture(stateAtStart(this.taken, this.liveMaps));
      this.taken = null;
    }
    // A copy: the caller may keep or change it (JSON is plain data, and faster to copy so than structuredClone).
    return this.start === undefined ? undefined : (JSON.parse(JSON.stringify(this.start)) as Snapshot);
  }
  replayStartSeq(): number | undefined {
    return this.taken?.seq ?? this.start?.seq;
  }
  setEngineMemory(read: () => EngineMemory): void {
    this.engineMemory = read;
  }
  dropEngineMemory(read: () => EngineMemory): void {
    if (this.engineMemory === read) this.engineMemory = null;
  }
  private keepStartAhead(lastDropped: number): void {
    // A store no engine has opened (no settings) holds nothing a replay starts from.
    if (lastDropped <= (this.replayStartSeq() ?? 0) || this.settings === undefined) return;
    // Made whole before it replaces anything (the engine's memory is read here: a throw keeps the old start).
    const taken = takeStart(this.liveMaps, this.seq, this.log.last()?.at ?? 0, this.settings, this.engineMemory?.() ?? emptyEngineMemory());
    this.start = undefined;
    this.taken = taken;
  }

  restore(snapshot: Snapshot): void {
    if (this.users.size > 0 || this.seq > 0 || this.status.size > 0 || this.pending.size > 0) {
      throw new Error(`a snapshot is restored into an empty store only (this one holds ${this.users.size} users, seq ${this.seq})`);
    }
    const records = recordsOf(snapshot);
    this.transaction(() => {
      this.addUsers(snapshot.users);
      for (const [id, rec] of records.status) this.putStatus(id, rec);
      for (const [id, rec] of records.subscriptions) this.putSubscriptions(id, rec, { added: [...rec.context.list], removed: [] });
      for (const [id, list] of snapshot.friends) this.addFriends(id, list);
      for (const [id, n] of snapshot.notices) this.putNotice(id, structuredClone(n));
      for (const t of snapshot.timers) this.putTimer({ ...t });
      this.putSettings(structuredClone(snapshot.settings));
      this.record(APPENDED, this.seq, this.logStart, false);
      this.seq = snapshot.seq;
      this.logStart = snapshot.seq + 1;
      this.keepStart(snapshot);
    });
    this.start = structuredClone(snapshot);
    this.taken = null;
  }
  /** A durable store writes the replay start inside restore's transaction. */
  protected keepStart(_snapshot: Snapshot): void {}

  /**
   * Runs `fn`; if it throws, every write it made is reverted (newest first) and the error rethrown. A nested
   * call is a savepoint: its throw reverts only its own writes, and the caller may catch it and go on.
   */
  transaction<T>(fn: () => T): T {
    const mark = this.undoTop;
    this.txDepth++;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      try {
        this.revert(mark);
      } finally {
        if (--this.txDepth === 0) this.forget();
      }
      throw e;
    }
    if (--this.txDepth === 0) this.forget();
    return result;
  }
  close(): void {}

  // ---------------------------------------------------------------------------------------------------------
  // The undo log.

  private record(op: number, a: unknown, b: unknown, c: unknown): void {
    const i = this.undoTop;
    const u = this.undo;
    u[i] = op;
    u[i + 1] = a;
    u[i + 2] = b;
    u[i + 3] = c;
    this.undoTop = i + WIDTH;
  }

  private addMember(index: Map<string, Set<string>>, key: string, value: string, logged: boolean): void {
    if (addTo(index, key, value) && logged) this.record(MEMBER_ADDED, index, key, value);
  }
  private removeMember(index: Map<string, Set<string>>, key: string, value: string, logged: boolean): void {
    if (removeFrom(index, key, value) && logged) this.record(MEMBER_REMOVED, index, key, value);
  }

  /** Reverts the logged writes above `mark`, newest first. */
  private revert(mark: number): void {
    const u = this.undo;
    let seqWas = 0;
    let viewsWas: StatusRecord['views'];
    let flapWas: StatusRecord['flap'];
    for (let i = this.undoTop - WIDTH; i >= mark; i -= WIDTH) {
      const a = u[i + 1];
      const b = u[i + 2];
      const c = u[i + 3];
      switch (u[i] as number) {
        case MAP_PUT:
          // Values are never undefined, so undefined means the key was absent. A key put back lands at the
          // end of the Map's iteration order: contents are restored, insertion order of deleted keys is not.
          if (c === undefined) (a as Map<string, unknown>).delete(b as string);
          else (a as Map<string, unknown>).set(b as string, c);
          break;
        case MEMBER_ADDED:
          // (A friend set's first write since the replay start was taken noted it already: a rollback undoes only its own writes.)
          removeFrom(a as Map<string, Set<string>>, b as string, c as string);
          break;
        case MEMBER_REMOVED:
          addTo(a as Map<string, Set<string>>, b as string, c as string);
          break;
        case USER_ADDED:
          this.users.delete(b as string);
          break;
        case SETTINGS_PUT:
          this.settings = b as AccessContext | undefined;
          break;
        case APPENDED:
          if (c) this.log.pop();
          this.seq = a as number;
          this.logStart = b as number;
          break;
        case FIELDS_B:
          // Newest first: the entry below this one (FIELDS_A) names the record; both are restored there.
          seqWas = a as number;
          viewsWas = b as StatusRecord['views'];
          flapWas = c as StatusRecord['flap'];
          break;
        case FIELDS_A: {
          const rec = a as OwnRecord;
          rec.value = b as string;
          rec.context = c as StatusRecord['context'];
          rec.seq = seqWas;
          rec.views = viewsWas;
          rec.flap = flapWas;
          break;
        }
      }
    }
    this.undoTop = mark;
  }

  /**
   * Ends the outermost transaction. Slots are not cleared (that cost as much as the logging itself): the
   * records they still hold are the previous values of a few keys, overwritten by the next transactions. A
   * burst (registering 100,000 users in one call) is let go at once instead. The journal drops what the
   * transaction appended past its bound.
   */
  private forget(): void {
    if (this.undo.length > 4096) this.undo = [];
    this.undoTop = 0;
    this.log.trim(this.journalMax);
  }
}
