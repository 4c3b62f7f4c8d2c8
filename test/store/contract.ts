// The one contract every Store implementation passes (as socket.io-redis-adapter runs one suite against every
// adapter). A backend's test file calls storeContract(name, factory); durable backends give `reopen`, and the
// suite then also proves that everything survives closing and opening the same data again.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultAccessContext, type AccessContext } from '../../machines/access';
import { TYPES, type StatusType } from '../../machines/spec';
import { initialUserStatusContext } from '../../machines/userStatus';
import type { JournalEntry } from '../../src/types';
import type { PendingTimer, StatusRecord, Store, SubscriptionsRecord } from '../../src/store/types';

export interface StoreFixture {
  store: Store;
  /** Opens the same data again; the suite has closed `store` (and any earlier reopened one) before calling it. */
  reopen?: () => Store;
  /** Removes what the fixture made (temp files); the suite has closed the current store before. */
  cleanup?: () => void;
}

// -------------------------------------------------------------------------------------------------------------
// Records shaped like the engine's (the store treats them as opaque data).

export const statusRecord = (statusType: StatusType, customStatus = '', seq = 0, deviceIds: string[] = []): StatusRecord => ({
  value: statusType === TYPES.USER_STATUS_ONLINE ? 'userStatus.online' : 'userStatus.registered',
  context: {
    ...initialUserStatusContext(),
    statusType,
    customStatus,
    version: seq,
    devices: deviceIds.map((id) => ({ id, platform: 'web' as const, connected: true })),
  },
  seq,
});
export const subsRecord = (list: string[], value = 'subscriptions.kept'): SubscriptionsRecord => ({ value, context: { list } });
export const settingsWith = (userStatus: boolean): AccessContext => {
  const s = defaultAccessContext();
  return { ...s, switches: { ...s.switches, userStatus } };
};
export const timer = (key: string, due: number): PendingTimer => ({
  key,
  due,
  machine: 'userStatus',
  owner: key.split('|')[1] ?? key,
  delay: 'customStatusClearAfterLogout',
  state: 'unlogined.clearPending',
});
export const commandEntry = (seq: number, userID: string): JournalEntry => ({
  seq,
  at: 1000 + seq,
  kind: 'command',
  by: userID,
  command: { type: 'status.set', userID, customStatus: `s${seq}` },
});
export const transitionEntry = (seq: number, userID: string, cause = seq - 1): JournalEntry => ({
  seq,
  at: 1000 + seq,
  kind: 'transition',
  cause,
  machine: 'userStatus',
  userID,
  event: 'STATUS.SET',
  reason: 'custom_status_set',
  from: 'userStatus.online',
  to: 'userStatus.online',
  before: { statusType: TYPES.USER_STATUS_ONLINE, customStatus: '' },
  after: { statusType: TYPES.USER_STATUS_ONLINE, customStatus: `s${seq}` },
  version: seq,
  devices: 1,
});

const sorted = (xs: Iterable<string> | undefined) => [...(xs ?? [])].sort();

/** Everything a Store holds, read through the interface only, in a form toEqual can compare. */
export function dump(store: Store) {
  const users = [...store.userIDs()];
  const ids = new Set(users);
  const status: Record<string, StatusRecord | undefined> = {};
  const subs: Record<string, SubscriptionsRecord | undefined> = {};
  const notices: Record<string, unknown> = {};
  for (const id of users) {
    status[id] = store.getStatus(id);
    subs[id] = store.getSubscriptions(id);
    notices[id] = store.getNotice(id);
    for (const t of subs[id]?.context.list ?? []) ids.add(t);
    for (const f of store.friendsOf(id) ?? []) ids.add(f);
  }
  const index: Record<string, { subscribers: string[]; friends: string[]; followers: string[] }> = {};
  for (const id of [...ids].sort()) {
    index[id] = { subscribers: sorted(store.subscribersOf(id)), friends: sorted(store.friendsOf(id)), followers: sorted(store.followersOf(id)) };
  }
  return {
    users: sorted(users),
    status,
    subs,
    notices,
    index,
    settings: store.getSettings(),
    timers: [...store.timers()].sort((a, b) => (a.key < b.key ? -1 : 1)),
    journal: store.readJournal(store.firstSeq(), Number.MAX_SAFE_INTEGER),
    firstSeq: store.firstSeq(),
    lastSeq: store.lastSeq(),
  };
}

/** A store with something in every part, for the atomicity and reopen tests. */
export function fill(store: Store): void {
  store.transaction(() => {
    store.addUsers(['alice', 'bob', 'carol', 'dave']);
    store.putStatus('alice', statusRecord(TYPES.USER_STATUS_ONLINE, 'at work', 2, ['d1']));
    store.putStatus('bob', statusRecord(TYPES.USER_STATUS_UNLOGINED, 'lunch', 3));
    store.putSubscriptions('alice', subsRecord(['bob', 'carol']), { added: ['bob', 'carol'], removed: [] });
    store.putSubscriptions('dave', subsRecord(['bob'], 'subscriptions.clearPending'), { added: ['bob'], removed: [] });
    store.addFriends('alice', ['bob', 'dave']);
    store.addFriends('carol', ['alice']);
    store.putSettings(settingsWith(true));
    store.putNotice('carol', { userIDList: ['bob'], reason: 'subscriptions_cleared' });
    store.putTimer(timer('userStatus|bob|t1', 5000));
    store.putTimer(timer('subscriptions|dave|t2', 7000));
    store.append(commandEntry(1, 'alice'));
    store.append(transitionEntry(2, 'alice'));
    store.append(transitionEntry(3, 'bob'));
  });
}

// -------------------------------------------------------------------------------------------------------------

export function storeContract(name: string, factory: () => StoreFixture): void {
  const probe = factory();
  const durable = probe.reopen !== undefined;
  probe.store.close();
  probe.cleanup?.();

  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    /** Closes the current store and opens the same data again (durable backends only). */
    const reopen = (): Store => {
      store.close();
      store = (fx.reopen as () => Store)();
      return store;
    };

    beforeEach(() => {
      fx = factory();
      store = fx.store;
    });
    afterEach(() => {
      store.close();
      fx.cleanup?.();
    });

    describe('registry', () => {
      it('addUsers returns only the users that were new, once each, in order', () => {
        expect(store.addUsers(['a', 'b', 'a'])).toEqual(['a', 'b']);
        expect(store.addUsers(['b', 'c'])).toEqual(['c']);
        expect(store.addUsers([])).toEqual([]);
        expect(sorted(store.userIDs())).toEqual(['a', 'b', 'c']);
        expect(store.hasUser('a')).toBe(true);
        expect(store.hasUser('zed')).toBe(false);
      });
    });

    describe('status records', () => {
      it('a user who never logged in has no record; put then get returns the record; a put replaces it', () => {
        store.addUsers(['a']);
        expect(store.getStatus('a')).toBeUndefined();
        const first = statusRecord(TYPES.USER_STATUS_ONLINE, 'hi', 4, ['d1']);
        store.putStatus('a', first);
        expect(store.getStatus('a')).toEqual(first);
        const second = statusRecord(TYPES.USER_STATUS_UNLOGINED, '', 9);
        store.putStatus('a', second);
        expect(store.getStatus('a')).toEqual(second);
      });
    });

    describe('subscriptions and the reverse index', () => {
      it('NTF-2 subscribersOf follows the deltas of putSubscriptions', () => {
        store.addUsers(['a', 'b', 'x', 'y', 'z']);
        store.putSubscriptions('a', subsRecord(['x', 'y']), { added: ['x', 'y'], removed: [] });
        store.putSubscriptions('b', subsRecord(['x']), { added: ['x'], removed: [] });
        expect(sorted(store.subscribersOf('x'))).toEqual(['a', 'b']);
        expect(sorted(store.subscribersOf('y'))).toEqual(['a']);
        store.putSubscriptions('a', subsRecord(['y', 'z']), { added: ['z'], removed: ['x'] });
        expect(sorted(store.subscribersOf('x'))).toEqual(['b']);
        expect(sorted(store.subscribersOf('z'))).toEqual(['a']);
        expect(store.getSubscriptions('a')).toEqual(subsRecord(['y', 'z']));
      });

      it('an empty list at rest is no record; an empty list waiting to clear is kept', () => {
        store.addUsers(['a', 'x']);
        store.putSubscriptions('a', subsRecord(['x']), { added: ['x'], removed: [] });
        store.putSubscriptions('a', subsRecord([]), { added: [], removed: ['x'] });
        expect(store.getSubscriptions('a')).toBeUndefined();
        expect(sorted(store.subscribersOf('x'))).toEqual([]);
        store.putSubscriptions('a', subsRecord([], 'subscriptions.clearPending'), { added: [], removed: [] });
        expect(store.getSubscriptions('a')).toEqual(subsRecord([], 'subscriptions.clearPending'));
      });

      it('NTF-2 the reverse index always equals the inverse of the lists, under random adds and removes', () => {
        let run = 0;
        const owners = ['o1', 'o2', 'o3'];
        const targets = ['t1', 't2', 't3', 't4'];
        fc.assert(
          fc.property(
            fc.array(
              fc.record({
                owner: fc.constantFrom(...owners),
                list: fc.uniqueArray(fc.constantFrom(...targets), { maxLength: targets.length }),
                value: fc.constantFrom('subscriptions.kept', 'subscriptions.clearPending'),
                reopenAfter: fc.boolean(),
              }),
              { maxLength: 12 },
            ),
            (ops) => {
              // Each run uses its own ids, so runs sharing one store cannot see each other.
              const p = `r${++run}.`;
              const model = new Map<string, string[]>();
              store.addUsers([...owners, ...targets].map((id) => p + id));
              for (const op of ops) {
                const owner = p + op.owner;
                const list = op.list.map((t) => p + t);
                const old = model.get(owner) ?? [];
                store.putSubscriptions(owner, subsRecord(list, op.value), {
                  added: list.filter((t) => !old.includes(t)),
                  removed: old.filter((t) => !list.includes(t)),
                });
                model.set(owner, list);
                if (durable && op.reopenAfter) reopen();
              }
              for (const t of targets) {
                const expected = owners.filter((o) => model.get(p + o)?.includes(p + t)).map((o) => p + o);
                expect(sorted(store.subscribersOf(p + t))).toEqual(expected.sort());
              }
              for (const o of owners) expect(store.getSubscriptions(p + o)?.context.list ?? []).toEqual(model.get(p + o) ?? []);
            },
          ),
          { numRuns: durable ? 25 : 100 },
        );
      });
    });

    describe('friends', () => {
      it('NTF-2 friendsOf and followersOf are the two directions of the same edges', () => {
        store.addUsers(['a', 'b', 'c']);
        store.addFriends('a', ['b', 'c', 'b']);
        store.addFriends('b', ['c']);
        expect(sorted(store.friendsOf('a'))).toEqual(['b', 'c']);
        expect(sorted(store.followersOf('c'))).toEqual(['a', 'b']);
        expect(sorted(store.followersOf('a'))).toEqual([]);
        store.removeFriends('a', ['c', 'nobody']);
        expect(sorted(store.friendsOf('a'))).toEqual(['b']);
        expect(sorted(store.followersOf('c'))).toEqual(['b']);
        store.removeFriends('a', ['b']);
        expect(sorted(store.friendsOf('a'))).toEqual([]);
        expect(sorted(store.followersOf('b'))).toEqual([]);
      });
    });

    describe('settings, notices, timers', () => {
      it('settings: none until put, then the last put', () => {
        expect(store.getSettings()).toBeUndefined();
        store.putSettings(settingsWith(false));
        store.putSettings(settingsWith(true));
        expect(store.getSettings()).toEqual(settingsWith(true));
      });

      it('EXT-4 a notice waits per user until it is cleared', () => {
        store.addUsers(['a', 'b']);
        store.putNotice('a', { userIDList: ['b'], reason: 'subscriptions_cleared' });
        expect(store.getNotice('a')).toEqual({ userIDList: ['b'], reason: 'subscriptions_cleared' });
        expect(store.getNotice('b')).toBeUndefined();
        store.putNotice('a', undefined);
        expect(store.getNotice('a')).toBeUndefined();
      });

      it('CS-5 UNSUB-5 pending timers: put by key, replaced by key, deleted by key', () => {
        store.putTimer(timer('userStatus|a|t', 100));
        store.putTimer(timer('subscriptions|a|t', 200));
        store.putTimer(timer('userStatus|a|t', 300));
        store.deleteTimer('nothing');
        expect([...store.timers()].sort((x, y) => x.due - y.due)).toEqual([timer('subscriptions|a|t', 200), timer('userStatus|a|t', 300)]);
        store.deleteTimer('subscriptions|a|t');
        expect([...store.timers()]).toEqual([timer('userStatus|a|t', 300)]);
      });
    });

    describe('journal', () => {
      it('EXT-3 an empty journal: lastSeq 0, firstSeq 1, nothing to read', () => {
        expect(store.lastSeq()).toBe(0);
        expect(store.firstSeq()).toBe(1);
        expect(store.readJournal(1, 10)).toEqual([]);
        expect(store.journalOf('a')).toEqual([]);
      });

      it('EXT-3 append, then read by position and limit; journalOf returns one user’s transitions in order', () => {
        const entries = [
          commandEntry(1, 'a'),
          transitionEntry(2, 'a'),
          transitionEntry(3, 'b'),
          commandEntry(4, 'a'),
          transitionEntry(5, 'a'),
        ];
        for (const e of entries) store.append(e);
        expect(store.lastSeq()).toBe(5);
        expect(store.firstSeq()).toBe(1);
        expect(store.readJournal(1, 100)).toEqual(entries);
        expect(store.readJournal(2, 2)).toEqual(entries.slice(1, 3));
        expect(store.readJournal(5, 10)).toEqual(entries.slice(4));
        expect(store.readJournal(6, 10)).toEqual([]);
        expect(store.readJournal(1, 0)).toEqual([]);
        expect(store.journalOf('a')).toEqual([entries[1], entries[4]]);
        expect(store.journalOf('b')).toEqual([entries[2]]);
        expect(store.journalOf('c')).toEqual([]);
      });
    });

    describe('transactions', () => {
      it('transaction returns what its function returns, and its writes land', () => {
        const r = store.transaction(() => {
          store.addUsers(['a']);
          return 42;
        });
        expect(r).toBe(42);
        expect(store.hasUser('a')).toBe(true);
      });

      it('transaction: a throw inside changes nothing, in any part of the store', () => {
        fill(store);
        const before = dump(store);
        const boom = new Error('boom');
        expect(() =>
          store.transaction(() => {
            store.addUsers(['eve', 'alice']);
            store.putStatus('alice', statusRecord(TYPES.USER_STATUS_OFFLINE, '', 9));
            store.putStatus('eve', statusRecord(TYPES.USER_STATUS_ONLINE, 'new', 9, ['d9']));
            store.putSubscriptions('alice', subsRecord(['carol', 'dave']), { added: ['dave'], removed: ['bob'] });
            store.putSubscriptions('dave', subsRecord([]), { added: [], removed: ['bob'] });
            store.putSubscriptions('bob', subsRecord(['alice']), { added: ['alice'], removed: [] });
            store.addFriends('bob', ['alice', 'carol']);
            store.removeFriends('alice', ['bob']);
            store.putSettings(settingsWith(false));
            store.putNotice('carol', undefined);
            store.putNotice('bob', { userIDList: ['x'], reason: 'subscriptions_cleared' });
            store.putTimer(timer('userStatus|bob|t1', 9999));
            store.deleteTimer('subscriptions|dave|t2');
            store.putTimer(timer('userStatus|eve|t3', 1));
            store.append(commandEntry(4, 'bob'));
            store.append(transitionEntry(5, 'eve'));
            throw boom;
          }),
        ).toThrow(boom);
        expect(dump(store)).toEqual(before);
        if (durable) expect(dump(reopen())).toEqual(before);
      });

      it('transaction: a nested throw caught by the outer one undoes only the inner writes', () => {
        fill(store);
        store.transaction(() => {
          store.putStatus('carol', statusRecord(TYPES.USER_STATUS_ONLINE, 'outer', 4));
          expect(() =>
            store.transaction(() => {
              store.putStatus('carol', statusRecord(TYPES.USER_STATUS_ONLINE, 'inner', 5));
              store.addFriends('dave', ['carol']);
              store.append(commandEntry(4, 'carol'));
              throw new Error('inner');
            }),
          ).toThrow('inner');
          store.append(commandEntry(4, 'carol'));
        });
        expect(store.getStatus('carol')?.context.customStatus).toBe('outer');
        expect(sorted(store.friendsOf('dave'))).toEqual([]);
        expect(store.lastSeq()).toBe(4);
        expect(store.readJournal(4, 10)).toEqual([commandEntry(4, 'carol')]);
        if (durable) {
          const after = dump(store);
          expect(dump(reopen())).toEqual(after);
        }
      });
    });

    // Only a durable store can be reopened: for the others these tests are not defined at all.
    if (durable) describe('durability (reopen)', () => {
      it('everything survives closing and reopening: registry, records, index, friends, settings, notices, timers, journal', () => {
        fill(store);
        const before = dump(store);
        expect(dump(reopen())).toEqual(before);
        // And the reopened store goes on from where it was.
        store.append(commandEntry(4, 'dave'));
        expect(store.lastSeq()).toBe(4);
        expect(reopen().lastSeq()).toBe(4);
      });

      it('EXT-3 lastSeq and firstSeq survive reopening an otherwise empty store', () => {
        store.append(commandEntry(1, 'a'));
        store.append(commandEntry(2, 'a'));
        reopen();
        expect(store.lastSeq()).toBe(2);
        expect(store.firstSeq()).toBe(1);
      });

      it('writes made outside any transaction are durable too', () => {
        store.addUsers(['a', 'b']);
        store.addFriends('a', ['b']);
        store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, 'x', 1, ['d']));
        const before = dump(store);
        expect(dump(reopen())).toEqual(before);
      });
    });
  });
}
