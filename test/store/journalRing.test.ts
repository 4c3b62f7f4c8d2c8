// The in-memory journal's ring (src/store/journalRing.ts): what is read back equals what was appended, in
// order, across growth, wrap-around, pops and trims, for every kind of entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/records';
import type { Command, StatusTransition } from '../../src/records';
import { JournalRing } from '../../src/store/journalRing';
import { MemoryStore } from '../../src/store/memory';
import type { StatusStepFields } from '../../src/store/types';
import { commandEntry, transitionEntry } from './contract';

const subsEntry = (seq: number, userID: string): JournalEntry => ({
  seq,
  at: 1000 + seq,
  kind: 'transition',
  cause: seq - 1,
  machine: 'subscriptions',
  userID,
  reason: 'subscribed',
  from: 'subscriptions.kept',
  to: 'subscriptions.kept',
  added: ['x'],
  removed: [],
});
const command = (seq: number, by: string, c: Extract<JournalEntry, { kind: 'command' }>['command']): JournalEntry => ({ seq, at: 1000 + seq, kind: 'command', by, command: c });
/** The commands pushCommand keeps in columns, and near misses it keeps as objects (no deviceId, other key orders, extra keys). */
const loginEntry = (seq: number, userID: string) => command(seq, userID, { type: 'device.login', userID, deviceId: `d${seq}`, platform: seq % 2 ? 'web' : 'ios' });
const logoutEntry = (seq: number, userID: string) => command(seq, userID, { type: 'device.logout', userID, deviceId: `d${seq}` });
const setEntry = (seq: number, userID: string) => command(seq, userID, { type: 'status.set', userID, customStatus: `s${seq}`, deviceId: `d${seq}` });
const oddEntry = (seq: number, userID: string) =>
  command(seq, userID, ([
    { type: 'status.set', userID, customStatus: 'no device' },
    { type: 'status.set', userID, deviceId: 'd', customStatus: 'other order' },
    { type: 'device.login', userID, platform: 'web', deviceId: 'd' },
    { type: 'device.logout', userID, deviceId: 'd', extra: 1 },
  ] as Command[])[seq % 4]!);
const makers = [commandEntry, transitionEntry, subsEntry, loginEntry, logoutEntry, setEntry, oddEntry];

describe('JournalRing (EXT-3 in memory)', () => {
  it('EXT-3 reads back exactly the entries kept, whatever the pushes, pops and trims (a plain array as the model)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('push' as const), n: fc.integer({ min: 1, max: 1500 }), user: fc.constantFrom('a', 'b') }),
      fc.record({ k: fc.constant('pop' as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ k: fc.constant('trim' as const), n: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 50 }), (ops, from, limit) => {
        const ring = new JournalRing();
        const model: JournalEntry[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.k === 'push') {
            for (let i = 0; i < o.n; i++) {
              const e = makers[seq % makers.length]!(++seq, o.user);
              // Commands by their fields half the time (pushCommand: the columns), as entries otherwise.
              if (e.kind === 'command' && seq % 2 === 0) ring.pushCommand(e.seq, e.at, e.by, e.command);
              else ring.push(e);
              model.push(e);
            }
          } else if (o.k === 'pop') {
            for (let i = 0; i < o.n; i++) {
              ring.pop();
              if (model.pop()) seq--;
            }
          } else {
            ring.trim(o.n);
            if (model.length > o.n) model.splice(0, model.length - o.n);
          }
        }
        expect(ring.size).toBe(model.length);
        expect(ring.firstSeq()).toBe(model[0]?.seq);
        expect(ring.read(0, Number.MAX_SAFE_INTEGER)).toEqual(model);
        expect(ring.read(from, limit)).toEqual(model.filter((e) => e.seq >= from).slice(0, limit));
        expect(ring.transitionsOf('a')).toEqual(model.filter((e) => e.kind === 'transition' && e.userID === 'a'));
      }),
      { numRuns: 100 },
    );
  });

  it('EXT-3 a status transition read back has the same fields in the same order (JSON equal)', () => {
    const ring = new JournalRing();
    const e = transitionEntry(7, 'u');
    ring.push(e);
    expect(JSON.stringify(ring.read(0, 1)[0])).toBe(JSON.stringify(e));
  });

  it('EXT-3 entries given by their fields (appendCommand, appendStatusStep) read back as the entries appended, in a MemoryStore and in one whose append is its own', () => {
    class Recording extends MemoryStore {
      readonly seen: JournalEntry[] = [];
      override append(entry: JournalEntry): void {
        this.seen.push(structuredClone(entry));
        super.append(entry);
      }
    }
    const entries: JournalEntry[] = [];
    for (let seq = 1; seq <= 6; seq++) entries.push(seq % 2 ? commandEntry(seq, 'u') : transitionEntry(seq, 'u'));
    for (let seq = 7; seq <= 14; seq++) entries.push([loginEntry, logoutEntry, setEntry, oddEntry][seq % 4]!(seq, 'u'));
    // A status type that does not fit the ring's byte column takes the entry path.
    const odd = transitionEntry(15, 'v') as StatusTransition;
    entries.push({ ...odd, before: { ...odd.before, statusType: 300 as never } });
    const fieldsOf = (e: StatusTransition): StatusStepFields => ({
      seq: e.seq, at: e.at, cause: e.cause, userID: e.userID, event: e.event, reason: e.reason, from: e.from, to: e.to,
      before: e.before, after: { ...e.after, version: e.version, devices: { length: e.devices } },
    });
    for (const store of [new MemoryStore(), new Recording()]) {
      for (const e of entries) {
        if (e.kind === 'command') store.appendCommand(e.seq, e.at, e.by, e.command);
        else store.appendStatusStep(fieldsOf(e as StatusTransition));
      }
      expect(JSON.stringify(store.readJournal(0, 100))).toBe(JSON.stringify(entries));
      expect(store.lastSeq()).toBe(15);
      if (store instanceof Recording) expect(store.seen).toEqual(entries);
    }
  });
});

