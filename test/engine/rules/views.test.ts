// The pure rules of src/engine/rules/views.ts: EXT-5 who sees, and issue 17 (EXT-2 as a viewer sees it).
import { describe, expect, it } from 'vitest';
import { TYPES } from '../../../src/index';
import { classOf, compact, hiddenView, plainViews, sees, statusShown, viewOf, visibilityChanged } from '../../../src/engine/rules/views';

const ONLINE = { statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'x', version: 4, reason: 'custom_status_set' as const };

describe('EXT-5 visibility classes', () => {
  it('EXT-5 everyone: both classes see; friends: only friends; nobody: none', () => {
    expect([sees('everyone', 'friends'), sees('everyone', 'others')]).toEqual([true, true]);
    expect([sees('friends', 'friends'), sees('friends', 'others')]).toEqual([true, false]);
    expect([sees('nobody', 'friends'), sees('nobody', 'others')]).toEqual([false, false]);
    expect([classOf(true), classOf(false)]).toEqual(['friends', 'others']);
  });

  it('EXT-5 a hidden view is UNLOGINED with no custom status', () => {
    expect(hiddenView(7, 30)).toEqual({ statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 7, reason: 'visibility_changed', seq: 30 });
  });
});

describe('EXT-2 issue 17: a viewer is shown a new version only with a change it is told', () => {
  it('EXT-2 a status change is taken, and told, by the classes that see', () => {
    const start = plainViews(ONLINE, 10);
    const next = { ...ONLINE, customStatus: 'y', version: 5 };
    const r = statusShown(start, 'friends', next, 12);
    expect(r.told).toEqual(['friends']);
    expect(r.views!.friends).toEqual({ ...next, seq: 12 });
    expect(r.views!.others).toBe(start.others);
    // Told to both classes, the views are plain again (undefined: both see the status itself).
    expect(statusShown(r.views, 'everyone', next, 13)).toEqual({ views: undefined, told: ['friends', 'others'] });
    expect(statusShown(start, 'nobody', next, 12)).toEqual({ views: start, told: [] });
  });

  it('EXT-2 EXT-5 statusShown asks its sight rule about each class by name (a rule under which only others see)', () => {
    // The sight rule is a parameter (the broken variants swap it); the classes it is asked about are its input.
    const asked: string[] = [];
    const othersOnly = (_: unknown, cls: string) => {
      asked.push(cls);
      return cls === 'others';
    };
    const start = plainViews(ONLINE, 10);
    const next = { ...ONLINE, customStatus: 'y', version: 5 };
    const r = statusShown(start, 'friends', next, 12, othersOnly);
    expect(asked.sort()).toEqual(['friends', 'others']);
    expect(r.told).toEqual(['others']);
    expect(r.views).toEqual({ friends: start.friends, others: { ...next, seq: 12 } });
    expect(r.views!.friends).toBe(start.friends);
  });

  it('EXT-5 a user not seen by everyone always has its views kept: plain views there are a bug, said loudly', () => {
    expect(() => statusShown(undefined, 'friends', ONLINE, 12)).toThrow('statusShown: the views of a user not seen by everyone are kept, never plain');
    // Seen by everyone, or by nobody, plain views are fine.
    expect(statusShown(undefined, 'everyone', ONLINE, 12)).toEqual({ views: undefined, told: ['friends', 'others'] });
    expect(statusShown(undefined, 'nobody', ONLINE, 12)).toEqual({ views: undefined, told: [] });
  });

  it("EXT-2 EXT-5 switching to 'friends' is no news to friends: their view (version included) stays; others are told the hidden view", () => {
    const start = plainViews(ONLINE, 10);
    const r = visibilityChanged(start, 'everyone', 'friends', { ...ONLINE, version: 5, reason: 'visibility_changed' }, 11);
    expect(r.told).toEqual(['others']);
    expect(r.views.friends).toBe(start.friends);
    expect(r.views.others).toEqual(hiddenView(5, 11));
  });

  it('EXT-2 EXT-5 a second change of an already hidden user moves nothing for those still hidden', () => {
    const hidden = visibilityChanged(plainViews(ONLINE, 10), 'everyone', 'nobody', { ...ONLINE, version: 5, reason: 'visibility_changed' }, 11).views;
    const r = visibilityChanged(hidden, 'nobody', 'friends', { ...ONLINE, version: 6, reason: 'visibility_changed' }, 12);
    expect(r.told).toEqual(['friends']);
    expect(r.views.others).toBe(hidden.others);
    expect(r.views.others.version).toBe(5);
    expect(r.views.friends).toEqual({ ...ONLINE, version: 6, reason: 'visibility_changed', seq: 12 });
  });

  it('EXT-2 views equal to the status itself are not kept; a viewer reads its class view, or the status', () => {
    const plain = plainViews(ONLINE, 10);
    expect(compact(plain, ONLINE, 10)).toBeUndefined();
    expect(compact(plain, { ...ONLINE, version: 5 }, 11)).toBe(plain);
    expect(compact(undefined, ONLINE, 10)).toBeUndefined();
    // Kept while either class's view differs from the status told at seq in any one field.
    const unlike = { seq: 11, version: 5, statusType: TYPES.USER_STATUS_OFFLINE, customStatus: 'other', reason: 'logout' as const };
    for (const [field, value] of Object.entries(unlike)) {
      for (const cls of ['friends', 'others'] as const) {
        const views = { ...plain, [cls]: { ...plain[cls], [field]: value } };
        expect(compact(views, ONLINE, 10), `${cls}.${field}`).toBe(views);
      }
    }
    const views = { friends: plain.friends, others: hiddenView(3, 8) };
    expect(viewOf('u', views, 'others', ONLINE)).toEqual({ userID: 'u', statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 3, reason: 'visibility_changed' });
    expect(viewOf('u', undefined, 'others', ONLINE)).toEqual({ userID: 'u', ...ONLINE });
  });
});
