// The store contract against MemoryStore, the engine's default store, and what only its undo log has to get
// right: savepoints, the journal's tail and its trims, and a random tree of nested transactions that throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TYPES } from '../../machines/spec';
import { MemoryStore } from '../../src/store/memory';
import type { Store, StatusRecord } from '../../src/store/types';
import { commandEntry, dump, fill, settingsWith, statusRecord, storeContract, subsRecord, timer, transitionEntry } from './contract';

storeContract('MemoryStore', () => ({ store: new MemoryStore() }));

const boom = new Error('boom');
const viewsOf = (tag: string, seq: number): NonNullable<StatusRecord['views']> => ({
  friends: { statusType: TYPES.USER_STATUS_ONLINE, customStatus: tag, version: seq, reason: 'custom_status_set', seq },
  others: { statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 0, reason: 'registered', seq },
});
/** Runs a transaction that throws `boom` after `fn`, and swallows exactly that error. */
const failing = (store: Store, fn: () => void) =>
  expect(() =>
    store.transaction(() => {
      fn();
      throw boom;
    }),
  ).toThrow(boom);

describe('MemoryStore transactions', () => {
  it('a nested transaction that throws and is caught loses only its own writes, in every part of the store', () => {
    const store = new MemoryStore();
    fill(store);
    store.transaction(() => {
      store.addUsers(['erin']);
      store.putStatus('carol', statusRecord(TYPES.USER_STATUS_ONLINE, 'outer', 4, ['d4']));
      store.putSubscriptions('carol', subsRecord(['bob']), { added: ['bob'], removed: [] });
      store.addFriends('erin', ['alice']);
      store.append(commandEntry(4, 'carol'));
      const outerSoFar = dump(store);
      failing(store, () => {
        store.addUsers(['zoe', 'erin']);
        store.putStatus('carol', statusRecord(TYPES.USER_STATUS_OFFLINE, '', 5));
        store.putStatus('zoe', statusRecord(TYPES.USER_STATUS_ONLINE, 'z', 5, ['dz']));
        store.putSubscriptions('carol', subsRecord([]), { added: [], removed: ['bob'] });
        store.putSubscriptions('alice', subsRecord(['dave']), { added: ['dave'], removed: ['bob', 'carol'] });
        store.addFriends('erin', ['bob', 'alice']);
        store.removeFriends('alice', ['bob', 'dave']);
        store.putSettings(settingsWith(false));
        store.putNotice('carol', undefined);
        store.putNotice('zoe', { userIDList: ['carol'], reason: 'subscriptions_cleared' });
        store.putTimer(timer('userStatus|bob|t1', 1));
        store.deleteTimer('subscriptions|dave|t2');
        store.append(commandEntry(5, 'zoe'));
        store.append(transitionEntry(6, 'zoe'));
      });
      expect(dump(store)).toEqual(outerSoFar);
      // The outer one goes on from where it was, and its seqs continue after its own last one.
      store.putNotice('erin', { userIDList: ['x'], reason: 'subscriptions_cleared' });
      store.append(transitionEntry(5, 'carol', 4));
    });
    expect(store.getStatus('carol')?.context.customStatus).toBe('outer');
    expect(store.hasUser('erin')).toBe(true);
    expect(store.hasUser('zoe')).toBe(false);
    expect([...(store.subscribersOf('bob') ?? [])].sort()).toEqual(['alice', 'carol', 'dave']);
    expect([...(store.followersOf('alice') ?? [])].sort()).toEqual(['carol', 'erin']);
    expect(store.getNotice('erin')).toBeDefined();
    expect(store.readJournal(4, 10)).toEqual([commandEntry(4, 'carol'), transitionEntry(5, 'carol', 4)]);
    expect(store.lastSeq()).toBe(5);
  });

  it('a nested transaction that succeeded is undone with the outer one when the outer throws', () => {
    const store = new MemoryStore();
    fill(store);
    const before = dump(store);
    failing(store, () => {
      store.transaction(() => {
        store.putStatus('dave', statusRecord(TYPES.USER_STATUS_ONLINE, 'inner', 4, ['d']));
        store.transaction(() => store.addFriends('dave', ['alice']));
        store.append(commandEntry(4, 'dave'));
      });
      expect(store.getStatus('dave')?.context.customStatus).toBe('inner');
    });
    expect(dump(store)).toEqual(before);
  });

  it('a throw caught two levels up undoes the level that threw and the finished levels inside it', () => {
    const store = new MemoryStore();
    store.addUsers(['a']);
    store.transaction(() => {
      store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, '1', 1));
      try {
        store.transaction(() => {
          store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, '2', 2));
          store.transaction(() => store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, '3', 3)));
          throw boom;
        });
      } catch (e) {
        if (e !== boom) throw e;
      }
      expect(store.getStatus('a')?.context.customStatus).toBe('1');
    });
    expect(store.getStatus('a')?.context.customStatus).toBe('1');
  });

  it('writes outside a transaction land at once and a later failing transaction leaves them alone', () => {
    const store = new MemoryStore();
    store.addUsers(['a', 'b']);
    store.addFriends('a', ['b']);
    store.append(commandEntry(1, 'a'));
    const before = dump(store);
    failing(store, () => {
      store.removeFriends('a', ['b']);
      store.append(commandEntry(2, 'a'));
    });
    expect(dump(store)).toEqual(before);
  });

  it('the store works on after a failed transaction: the next one commits normally', () => {
    const store = new MemoryStore();
    store.addUsers(['a']);
    failing(store, () => store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, 'x', 1)));
    store.transaction(() => store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, 'y', 1)));
    failing(store, () => store.putStatus('a', statusRecord(TYPES.USER_STATUS_ONLINE, 'z', 2)));
    expect(store.getStatus('a')?.context.customStatus).toBe('y');
  });

  it('a value thrown that is not an Error is rethrown as it is, after the rollback', () => {
    const store = new MemoryStore();
    let caught: unknown;
    try {
      store.transaction(() => {
        store.addUsers(['a']);
        throw 'plain string';
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe('plain string');
    expect(store.hasUser('a')).toBe(false);
  });
});

describe('MemoryStore journal rollback (EXT-3)', () => {
  it('a failed transaction past the journal bound keeps the entries it would have dropped', () => {
    // journalMaxEntries 4: outside a transaction each append drops the oldest at once; inside one, the
    // transaction's end does, so a rollback has only its own entries to take back.
    const store = new MemoryStore({ journalMaxEntries: 4 });
    for (let seq = 1; seq <= 5; seq++) store.append(commandEntry(seq, 'a'));
    const before = dump(store);
    expect(before.firstSeq).toBe(2);
    failing(store, () => {
      store.append(commandEntry(6, 'a'));
      store.append(commandEntry(7, 'a'));
      expect(store.readJournal(0, 10).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    });
    expect(dump(store)).toEqual(before);
    // A transaction that commits drops the oldest down to the bound.
    store.transaction(() => {
      store.append(commandEntry(6, 'a'));
      store.append(commandEntry(7, 'a'));
    });
    expect(store.firstSeq()).toBe(4);
    expect(store.readJournal(3, 10).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    expect(store.readJournal(6, 1).map((e) => e.seq)).toEqual([6]);
  });

  it('with no journal kept, a failed transaction puts lastSeq and firstSeq back', () => {
    const store = new MemoryStore({ journalMaxEntries: 0 });
    store.append(commandEntry(1, 'a'));
    failing(store, () => {
      store.append(commandEntry(2, 'a'));
      store.append(commandEntry(3, 'a'));
    });
    expect([store.lastSeq(), store.firstSeq()]).toEqual([1, 2]);
    expect(store.readJournal(1, 10)).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------------------
// A random program of writes and nested transactions, some of which throw (each caught by its parent), run
// against a store; the same program with the throwing transactions left out, run without any transaction,
// must give the same store.

type Op =
  | { k: 'users'; ids: string[] }
  | { k: 'status'; id: string; tag: string }
  | { k: 'patch'; id: string; tag: string; views: boolean }
  | { k: 'subs'; id: string; list: string[]; pending: boolean }
  | { k: 'friend'; id: string; ids: string[]; add: boolean }
  | { k: 'settings'; on: boolean }
  | { k: 'notice'; id: string; put: boolean }
  | { k: 'timer'; id: string; put: boolean; due: number }
  | { k: 'append'; id: string; transition: boolean }
  | { k: 'tx'; body: Op[]; throws: boolean };

const ID = fc.constantFrom('a', 'b', 'c', 'd');
const IDS = fc.uniqueArray(ID, { maxLength: 3 });
const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('users' as const), ids: fc.array(ID, { maxLength: 3 }) }),
  fc.record({ k: fc.constant('status' as const), id: ID, tag: fc.string({ maxLength: 2 }) }),
  fc.record({ k: fc.constant('patch' as const), id: ID, tag: fc.string({ maxLength: 2 }), views: fc.boolean() }),
  fc.record({ k: fc.constant('subs' as const), id: ID, list: IDS, pending: fc.boolean() }),
  fc.record({ k: fc.constant('friend' as const), id: ID, ids: fc.array(ID, { maxLength: 3 }), add: fc.boolean() }),
  fc.record({ k: fc.constant('settings' as const), on: fc.boolean() }),
  fc.record({ k: fc.constant('notice' as const), id: ID, put: fc.boolean() }),
  fc.record({ k: fc.constant('timer' as const), id: ID, put: fc.boolean(), due: fc.nat(9) }),
  fc.record({ k: fc.constant('append' as const), id: ID, transition: fc.boolean() }),
);
const { program } = fc.letrec<{ op: Op; tx: Op; program: Op[] }>((tie) => ({
  op: fc.oneof({ depthSize: 'small' }, leaf, tie('tx')),
  tx: fc.record({ k: fc.constant('tx' as const), body: fc.array(tie('op'), { maxLength: 5 }), throws: fc.boolean() }),
  program: fc.array(tie('op'), { maxLength: 12 }),
}));

function run(store: Store, ops: readonly Op[], transactions: boolean): void {
  for (const op of ops) {
    switch (op.k) {
      case 'users':
        store.addUsers(op.ids);
        break;
      case 'status':
        store.putStatus(op.id, statusRecord(TYPES.USER_STATUS_ONLINE, op.tag, store.lastSeq()));
        break;
      case 'patch': {
        // Written into the store's own record where it holds one (in place), with undo of each field.
        const r = statusRecord(op.tag === '' ? TYPES.USER_STATUS_OFFLINE : TYPES.USER_STATUS_ONLINE, op.tag, store.lastSeq());
        store.patchStatus?.(op.id, r.value, r.context, r.seq, op.views ? viewsOf(op.tag, r.seq) : undefined, undefined);
        break;
      }
      case 'subs': {
        const old = store.getSubscriptions(op.id)?.context.list ?? [];
        store.putSubscriptions(op.id, subsRecord(op.list, op.pending ? 'subscriptions.clearPending' : 'subscriptions.kept'), {
          added: op.list.filter((t) => !old.includes(t)),
          removed: old.filter((t) => !op.list.includes(t)),
        });
        break;
      }
      case 'friend':
        if (op.add) store.addFriends(op.id, op.ids);
        else store.removeFriends(op.id, op.ids);
        break;
      case 'settings':
        store.putSettings(settingsWith(op.on));
        break;
      case 'notice':
        store.putNotice(op.id, op.put ? { userIDList: [op.id], reason: 'subscriptions_cleared' } : undefined);
        break;
      case 'timer':
        if (op.put) store.putTimer(timer(`userStatus|${op.id}|t`, op.due));
        else store.deleteTimer(`userStatus|${op.id}|t`);
        break;
      case 'append': {
        const seq = store.lastSeq() + 1;
        store.append(op.transition ? transitionEntry(seq, op.id) : commandEntry(seq, op.id));
        break;
      }
      case 'tx':
        if (!transactions) {
          if (!op.throws) run(store, op.body, false);
          break;
        }
        try {
          store.transaction(() => {
            run(store, op.body, true);
            if (op.throws) throw boom;
          });
        } catch (e) {
          if (e !== boom) throw e;
        }
        break;
    }
  }
}

describe('MemoryStore transactions, at random', () => {
  it.each([1_000_000, 3, 0])('nested transactions that throw leave exactly the writes of those that did not (journal of %i)', (journalMaxEntries) => {
    fc.assert(
      fc.property(program, (ops) => {
        const store = new MemoryStore({ journalMaxEntries });
        const expected = new MemoryStore({ journalMaxEntries });
        run(store, ops, true);
        run(expected, ops, false);
        expect(dump(store)).toEqual(dump(expected));
      }),
      { numRuns: 300 },
    );
  });
});

describe('MemoryStore.patchStatus (a change written into the record in place)', () => {
  const patch = (store: MemoryStore, id: string, tag: string, seq: number, views?: StatusRecord['views']) => {
    const r = statusRecord(TYPES.USER_STATUS_ONLINE, tag, seq, ['d1']);
    store.patchStatus(id, r.value, r.context, r.seq, views, undefined);
  };

  it('makes a record of its own first, then writes into it; the same as putStatus of the fields', () => {
    const store = new MemoryStore();
    patch(store, 'alice', 'one', 1);
    const own = store.getStatus('alice');
    patch(store, 'alice', 'two', 2, viewsOf('two', 2));
    expect(store.getStatus('alice')).toBe(own);
    const put = new MemoryStore();
    const r = statusRecord(TYPES.USER_STATUS_ONLINE, 'two', 2, ['d1']);
    put.putStatus('alice', { ...r, views: viewsOf('two', 2) });
    expect(dump(store).status).toEqual(dump(put).status);
  });

  it('writes into a record given to putStatus (it is the store\'s from then on), and a rollback puts its fields back', () => {
    const store = new MemoryStore();
    const given = statusRecord(TYPES.USER_STATUS_ONLINE, 'given', 1);
    const copy = structuredClone(given);
    store.putStatus('alice', given);
    failing(store, () => patch(store, 'alice', 'lost', 2));
    // Equal (views and flap may now be there as undefined: the same record to every reader).
    expect(given).toEqual(copy);
    patch(store, 'alice', 'next', 2);
    expect(store.getStatus('alice')).toBe(given);
    expect(given.context.customStatus).toBe('next');
  });

  it('a failed transaction puts every field of the very record back (nested savepoints too)', () => {
    const store = new MemoryStore();
    patch(store, 'alice', 'one', 1);
    const own = store.getStatus('alice');
    const was = structuredClone(own);
    store.transaction(() => {
      patch(store, 'alice', 'outer', 2, viewsOf('outer', 2));
      const outer = structuredClone(store.getStatus('alice'));
      failing(store, () => {
        patch(store, 'alice', 'inner', 3);
        patch(store, 'alice', 'inner again', 4, viewsOf('x', 4));
      });
      expect(store.getStatus('alice')).toStrictEqual(outer);
    });
    failing(store, () => patch(store, 'alice', 'lost', 5));
    expect(store.getStatus('alice')).toBe(own);
    expect(store.getStatus('alice')?.context.customStatus).toBe('outer');
    failing(store, () => {
      patch(store, 'alice', 'lost', 6);
      patch(store, 'bob', 'lost', 6);
    });
    expect(store.getStatus('bob')).toBeUndefined();
    void was;
  });

  it("leaves the replay start's capture as it was at its seq (it holds copies of the records)", () => {
    const run = (store: MemoryStore, patchAfter: boolean) => {
      store.putSettings(settingsWith(true));
      patch(store, 'alice', 'at the start', 0);
      patch(store, 'alice', 'at the start', 0);
      for (let seq = 1; seq <= 4; seq++) store.append(commandEntry(seq, 'alice'));
      expect(store.replayStartSeq()).toBeDefined();
      if (patchAfter) {
        const held = store.getStatus('alice');
        patch(store, 'alice', 'after the capture', 5);
        expect(store.getStatus('alice')).toBe(held);
      }
      return store.replayStart();
    };
    expect(run(new MemoryStore({ journalMaxEntries: 2 }), true)).toStrictEqual(run(new MemoryStore({ journalMaxEntries: 2 }), false));
  });

  it("keeps the replay start's pending timers in the order they stood (timers due at one instant fire in it), whatever is armed or cancelled after", () => {
    const store = new MemoryStore({ journalMaxEntries: 2 });
    store.putSettings(settingsWith(true));
    store.transaction(() => {
      store.putTimer(timer('t|alice', 1000));
      store.putTimer(timer('t|bob', 1000));
      store.putTimer(timer('t|carol', 1000));
    });
    for (let seq = 1; seq <= 3; seq++) store.append(commandEntry(seq, 'alice'));
    expect(store.replayStartSeq()).toBe(3);
    // After the start: alice's cancelled and armed again, bob's cancelled, a new one for dave.
    store.transaction(() => store.deleteTimer('t|alice'));
    store.transaction(() => store.putTimer(timer('t|alice', 2000)));
    store.transaction(() => store.deleteTimer('t|bob'));
    store.transaction(() => store.putTimer(timer('t|dave', 1000)));
    expect(store.replayStart()!.timers.map((t) => [t.key, t.due])).toEqual([['t|alice', 1000], ['t|bob', 1000], ['t|carol', 1000]]);
  });
});
