// HandedOnce (src/cluster/once.ts): each version of a user is handed to a device once, never an older one after it.
import { describe, expect, it } from 'vitest';
import { HandedOnce } from '../../src/cluster/once';
import { EVENT, type ClientEvent } from '../../src/events';
import type { UserStatus } from '../../src/records';

const st = (userID: string, version: number) => ({ userID, version, statusType: 1, customStatus: '' }) as unknown as UserStatus;
const ev = (...data: UserStatus[]): ClientEvent => ({ name: EVENT.USER_STATUS_UPDATED, data });
const versions = (e: ClientEvent | null) => (e === null ? null : (e.data as UserStatus[]).map((s) => `${s.userID}@${s.version}`));

describe('HandedOnce (NTF-6 each change once, per device)', () => {
  it('drops a version already handed and an older one, keeps the newer ones of the same event', () => {
    const o = new HandedOnce();
    expect(versions(o.admit('v', ev(st('a', 3))))).toEqual(['a@3']);
    expect(o.admit('v', ev(st('a', 3)))).toBeNull();
    expect(o.admit('v', ev(st('a', 2)))).toBeNull();
    expect(versions(o.admit('v', ev(st('a', 3), st('b', 1), st('a', 4))))).toEqual(['b@1', 'a@4']);
  });

  it('what a resuming client says it holds is not handed again (a new socket after a rebuild)', () => {
    const o = new HandedOnce();
    o.holds('v', { a: 3, b: 1 });
    expect(versions(o.admit('v', ev(st('a', 3), st('b', 2))))).toEqual(['b@2']);
    expect(versions(o.admit('w', ev(st('a', 3))))).toEqual(['a@3']);
  });

  it('a resuming client\'s versions replace what was handed to its dead socket (EXT-2 after a network loss)', () => {
    const o = new HandedOnce();
    // Handed to a socket that died: a@5 and c@2 never arrived; the client says it holds a@4 and nothing of c.
    o.admit('v', ev(st('a', 5), st('c', 2)));
    o.holds('v', { a: 4 });
    expect(versions(o.admit('v', ev(st('a', 5), st('c', 2))))).toEqual(['a@5', 'c@2']);
    // Another viewer's record is not touched; no versions passed: the record stays.
    o.admit('w', ev(st('a', 5)));
    o.holds('v', undefined);
    expect(o.admit('v', ev(st('a', 5)))).toBeNull();
    expect(o.admit('w', ev(st('a', 5)))).toBeNull();
  });

  it('what was handed since a resume began (out on the new socket) stays handed through its holds()', () => {
    const o = new HandedOnce();
    o.admit('v', ev(st('a', 5), st('c', 2))); // to the dead socket
    o.resuming();
    o.admit('v', ev(st('a', 6))); // on the new socket, after the client took its versions
    o.holds('v', { a: 4 });
    expect(versions(o.admit('v', ev(st('a', 6), st('c', 2))))).toEqual(['c@2']);
    // The mark ends with that holds(): a later resume without a new mark replaces the record again.
    o.admit('v', ev(st('a', 7)));
    o.holds('v', { a: 6 });
    expect(versions(o.admit('v', ev(st('a', 7))))).toEqual(['a@7']);
  });

  it('other events pass; another viewer on the same device starts afresh; forget hands the current again', () => {
    const o = new HandedOnce();
    const kicked = { name: EVENT.KICKED_OUT, data: { type: 'multipleDevice' } } as unknown as ClientEvent;
    expect(o.admit('v', kicked)).toBe(kicked);
    o.admit('v', ev(st('a', 3), st('b', 2)));
    expect(versions(o.admit('w', ev(st('a', 3))))).toEqual(['a@3']);
    o.forget(['a']);
    expect(versions(o.admit('v', ev(st('a', 3), st('b', 2))))).toEqual(['a@3']);
    o.forget();
    expect(versions(o.admit('v', ev(st('b', 2))))).toEqual(['b@2']);
  });
});
