// Where an engine keeps its state. The engine reads and writes through this interface only, so a durable
// (SQLite) or shared backend plugs in without touching the machines or the public API. Calls are
// synchronous: the engine applies one command at a time inside `transaction`, and a durable store makes the
// whole command durable before the transaction returns (nothing acknowledged is lost).
import type { AccessContext } from '../../machines/access';
import type { Command, JournalEntry, Notice, PendingTimer, StatusRecord, StatusTransition, SubscriptionsRecord } from '../records';
import type { CompactionReport } from './retention';
import type { EngineMemory, Snapshot } from './snapshot';

export type { Notice, PendingTimer, StatusRecord, SubscriptionsRecord };

/**
 * A userStatus transition's journal entry as its parts (see `Store.appendStatusStep`): the entry is the
 * StatusTransition with before/after taken from the two contexts (statusType, customStatus; version and
 * the number of devices after).
 */
export interface StatusStepFields {
  seq: number;
  at: number;
  cause: number;
  userID: string;
  event: string;
  reason: StatusTransition['reason'];
  from: string;
  to: string;
  before: Pick<StatusTransition['before'], 'statusType' | 'customStatus'>;
  after: Pick<StatusTransition['after'], 'statusType' | 'customStatus'> & { version: number; devices: { length: number } };
}

/** Thrown by a store that cannot reach the part that holds a user (ST-7: the status is then UNKNOWN). */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export interface Store {
  readonly kind: string;

  hasUser(userID: string): boolean;
  /** Registers users; returns those that were new. */
  addUsers(userIDs: readonly string[]): string[];
  userIDs(): Iterable<string>;
  /** How many are registered (without walking them). */
  userCount(): number;

  /** Absent: the user never logged in and holds the machine's initial state. */
  getStatus(userID: string): StatusRecord | undefined;
  /** The record is the store's from then on: a store with patchStatus may write into it at a later change. */
  putStatus(userID: string, record: StatusRecord): void;
  /**
   * The same as `putStatus(userID, { value, context, seq, views, flap })` (views and flap left out when
   * undefined), except that the store may write the fields into the record it holds for the user instead of
   * keeping a new object (optional; MemoryStore does, so that a change leaves no record behind for the
   * garbage collector). A record read from getStatus may therefore change at a later call: a holder that
   * keeps one past the running command copies it first. Contexts are never written into: they stay as
   * immutable as the machines make them.
   */
  patchStatus?(userID: string, value: string, context: StatusRecord['context'], seq: number, views: StatusRecord['views'], flap: StatusRecord['flap']): void;

  getSubscriptions(userID: string): SubscriptionsRecord | undefined;
  /** `delta` names the targets that joined or left, so the store keeps its reverse index without a diff. */
  putSubscriptions(userID: string, record: SubscriptionsRecord, delta: { added: string[]; removed: string[] }): void;
  /** Who subscribes to `userID` (NTF-2 b). */
  subscribersOf(userID: string): ReadonlySet<string> | undefined;

  /** `userID`'s own friend list. */
  friendsOf(userID: string): ReadonlySet<string> | undefined;
  /** Who has `userID` in their friend list (NTF-2 c). */
  followersOf(userID: string): ReadonlySet<string> | undefined;
  addFriends(userID: string, friendIDs: readonly string[]): void;
  removeFriends(userID: string, friendIDs: readonly string[]): void;

  getSettings(): AccessContext | undefined;
  putSettings(settings: AccessContext): void;

  getNotice(userID: string): Notice | undefined;
  putNotice(userID: string, notice: Notice | undefined): void;

  putTimer(timer: PendingTimer): void;
  deleteTimer(key: string): void;
  timers(): Iterable<PendingTimer>;

  /** EXT-3: append-only. */
  append(entry: JournalEntry): void;
  /**
   * The same as `append` of a command entry or of a userStatus transition, given field by field, so that the
   * engine builds no entry object per change (optional; MemoryStore keeps the fields in its ring as they come).
   */
  appendCommand?(seq: number, at: number, by: string, command: Command): void;
  /** `step` is read during the call only: the engine fills one object again for each step. */
  appendStatusStep?(step: StatusStepFields): void;
  lastSeq(): number;
  /** The first seq still kept (entries before it were dropped by a bounded journal). */
  firstSeq(): number;
  readJournal(fromSeq: number, limit: number): JournalEntry[];
  journalOf(userID: string): JournalEntry[];

  /**
   * Compaction (issue 9): the snapshot a bounded journal replays from (its state at `seq`; the journal goes on
   * after it), undefined while the journal is whole from seq 1. A store that drops entries keeps one first.
   */
  replayStart?(): Snapshot | undefined;
  /** Its seq alone (cheap). */
  replayStartSeq?(): number | undefined;
  /** Starts an empty store at `snapshot` (its state, its seq, and it as the replay start), atomically. */
  restore?(snapshot: Snapshot): void;
  /** Where the store reads the engine's own memory when it takes a snapshot itself (set by the engine). */
  setEngineMemory?(read: () => EngineMemory): void;
  /** The engine that set `read` closes: the store stops reading it (unless a later engine set its own). */
  dropEngineMemory?(read: () => EngineMemory): void;
  /** A store on disk: the size of its files now, in bytes (SQLite: the database and its write-ahead log). */
  fileBytes?(): number;
  /** A store that compacts its journal: its last pass (what it kept, dropped and took), or that pass's error; null before one ran. */
  readonly lastCompaction?: CompactionReport | { error: Error } | null;

  /** Runs `fn` atomically: all of its writes land, or (if it throws) none. */
  transaction<T>(fn: () => T): T;
  /**
   * The seam for an asynchronous durable store (Redis, a later issue): it applies a transaction to its read
   * path synchronously (so the machines and the engine stay synchronous) and makes it durable afterwards;
   * `durable()` resolves once every transaction so far is durable (rejects if that failed). The engine
   * acknowledges a call, i.e. resolves its promise, only then. Memory and SQLite are durable when
   * `transaction` returns and leave it out.
   */
  durable?(): Promise<void>;
  close(): void;
}
