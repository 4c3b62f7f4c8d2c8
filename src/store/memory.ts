// The in-memory store: plain Maps and Sets, sized for a million users (a user who never logged in costs
// one registry entry and nothing else). Durable stores extend it and add their writes in `transaction`.
import type { AccessContext } from '../../machines/access';
import type { JournalEntry } from '../types';
import type { Notice, PendingTimer, StatusRecord, Store, SubscriptionsRecord } from './types';

const addTo = (index: Map<string, Set<string>>, key: string, value: string) => {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
};
const removeFrom = (index: Map<string, Set<string>>, key: string, value: string) => {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
};

export interface MemoryStoreOptions {
  /** Journal entries kept in memory (oldest dropped first). Default 1,000,000; 0 keeps none. */
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
  protected log: JournalEntry[] = [];
  protected logStart = 0;
  protected seq = 0;
  protected readonly journalMax: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.journalMax = options.journalMaxEntries ?? 1_000_000;
  }

  hasUser(userID: string): boolean {
    return this.users.has(userID);
  }
  addUsers(userIDs: readonly string[]): string[] {
    const added: string[] = [];
    for (const id of userIDs) {
      if (!this.users.has(id)) {
        this.users.add(id);
        added.push(id);
      }
    }
    return added;
  }
  userIDs(): Iterable<string> {
    return this.users;
  }

  getStatus(userID: string): StatusRecord | undefined {
    return this.status.get(userID);
  }
  putStatus(userID: string, record: StatusRecord): void {
    this.status.set(userID, record);
  }

  getSubscriptions(userID: string): SubscriptionsRecord | undefined {
    return this.subs.get(userID);
  }
  putSubscriptions(userID: string, record: SubscriptionsRecord, delta: { added: string[]; removed: string[] }): void {
    if (record.context.list.length === 0 && record.value === 'subscriptions.kept') this.subs.delete(userID);
    else this.subs.set(userID, record);
    for (const t of delta.removed) removeFrom(this.subscribers, t, userID);
    for (const t of delta.added) addTo(this.subscribers, t, userID);
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
    for (const f of friendIDs) {
      addTo(this.friends, userID, f);
      addTo(this.followers, f, userID);
    }
  }
  removeFriends(userID: string, friendIDs: readonly string[]): void {
    for (const f of friendIDs) {
      removeFrom(this.friends, userID, f);
      removeFrom(this.followers, f, userID);
    }
  }

  getSettings(): AccessContext | undefined {
    return this.settings;
  }
  putSettings(settings: AccessContext): void {
    this.settings = settings;
  }

  getNotice(userID: string): Notice | undefined {
    return this.notices.get(userID);
  }
  putNotice(userID: string, notice: Notice | undefined): void {
    if (notice) this.notices.set(userID, notice);
    else this.notices.delete(userID);
  }

  putTimer(timer: PendingTimer): void {
    this.pending.set(timer.key, timer);
  }
  deleteTimer(key: string): void {
    this.pending.delete(key);
  }
  timers(): Iterable<PendingTimer> {
    return this.pending.values();
  }

  append(entry: JournalEntry): void {
    this.seq = entry.seq;
    if (this.journalMax <= 0) {
      this.logStart = entry.seq + 1;
      return;
    }
    this.log.push(entry);
    // Drop in chunks, so that trimming costs O(1) per append on average.
    if (this.log.length > this.journalMax + Math.max(1, this.journalMax >> 3)) {
      const drop = this.log.length - this.journalMax;
      this.log = this.log.slice(drop);
      this.logStart = (this.log[0] as JournalEntry).seq;
    }
  }
  lastSeq(): number {
    return this.seq;
  }
  firstSeq(): number {
    return this.log.length > 0 ? (this.log[0] as JournalEntry).seq : this.logStart || this.seq + 1;
  }
  readJournal(fromSeq: number, limit: number): JournalEntry[] {
    const first = this.log.length > 0 ? (this.log[0] as JournalEntry).seq : 0;
    const start = Math.max(0, fromSeq - first);
    return this.log.slice(start, start + limit);
  }
  journalOf(userID: string): JournalEntry[] {
    return this.log.filter((e) => e.kind === 'transition' && e.userID === userID);
  }

  transaction<T>(fn: () => T): T {
    return fn();
  }
  close(): void {}
}
