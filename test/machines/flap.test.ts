// EXT-7: the flap machine on its own (a real XState actor on a SimulatedClock): which changes it holds back
// from others, what ends a hold, and whether the end is news.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { flapMachine, type FlapEmitted, type FlapEvent, type Seen } from '../../machines/flap';
import { DEFAULT_LIMITS, REASONS, type Reason } from '../../machines/spec';

const ONLINE: Seen = { statusType: 1, customStatus: 'x' };
const change = (reason: Reason, to: Seen, graceMs = 1000, before: Seen = ONLINE): FlapEvent => ({ type: 'STATUS.CHANGED', reason, ...to, before, graceMs });

function start() {
  const clock = new SimulatedClock();
  const actor = createActor(flapMachine.provide({ delays: { flapGrace: 1000 } }), { clock });
  const emitted: FlapEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as FlapEmitted));
  actor.start();
  return { actor, clock, emitted };
}

describe('EXT-7 the flap machine', () => {
  it('EXT-7 a lost link with a grace is held; a comeback to the same status ends the hold with nothing to tell', () => {
    const { actor, emitted } = start();
    actor.send(change('link_closed', { statusType: 3, customStatus: 'x' }));
    expect(actor.getSnapshot().value).toBe('holding');
    actor.send(change('reconnect', ONLINE, 1000, { statusType: 3, customStatus: 'x' }));
    expect(actor.getSnapshot().value).toBe('open');
    expect(emitted).toEqual([{ type: 'flap.held' }, { type: 'flap.ended', news: false }]);
  });

  it('EXT-7 the grace running out ends the hold: news if the status others saw changed', () => {
    const { actor, clock, emitted } = start();
    actor.send(change('heartbeat_timeout', { statusType: 2, customStatus: '' }));
    actor.send(change('custom_status_expired', { statusType: 2, customStatus: '' }));
    clock.increment(999);
    expect(actor.getSnapshot().value).toBe('holding');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('open');
    expect(emitted).toEqual([{ type: 'flap.held' }, { type: 'flap.held' }, { type: 'flap.ended', news: true }]);
    expect(actor.getSnapshot().context).toEqual({ before: null, latest: null });
  });

  it('EXT-7 other changes pass; with no grace (0) a lost link passes too', () => {
    const { actor, emitted } = start();
    actor.send(change('logout', { statusType: 3, customStatus: '' }));
    actor.send(change('link_closed', { statusType: 3, customStatus: '' }, 0));
    expect(actor.getSnapshot().value).toBe('open');
    expect(emitted).toEqual([{ type: 'flap.pass' }, { type: 'flap.pass' }]);
  });

  it('EXT-7 every reason: only a lost link (link_closed, heartbeat_timeout) is held; only a comeback (reconnect, login, foreground) ends a hold', () => {
    const LOST: Reason[] = ['link_closed', 'heartbeat_timeout'];
    const COMEBACK: Reason[] = ['reconnect', 'login', 'foreground'];
    for (const reason of REASONS) {
      const open = start();
      open.actor.send(change(reason, { statusType: 3, customStatus: '' }));
      expect(open.actor.getSnapshot().value, `open, ${reason}`).toBe(LOST.includes(reason) ? 'holding' : 'open');
      expect(open.emitted, `open, ${reason}`).toEqual([{ type: LOST.includes(reason) ? 'flap.held' : 'flap.pass' }]);

      const held = start();
      held.actor.send(change('link_closed', { statusType: 3, customStatus: '' }));
      held.actor.send(change(reason, ONLINE, 1000, { statusType: 3, customStatus: '' }));
      const ends = COMEBACK.includes(reason);
      expect(held.actor.getSnapshot().value, `holding, ${reason}`).toBe(ends ? 'open' : 'holding');
      // Back to what others saw before the flap: the end is no news.
      expect(held.emitted.slice(1), `holding, ${reason}`).toEqual([ends ? { type: 'flap.ended', news: false } : { type: 'flap.held' }]);
    }
  });

  it('EXT-7 the end is news when the final state differs from what others saw before in its type or its custom status', () => {
    const endWith = (latest: Seen) => {
      const { actor, emitted } = start();
      actor.send(change('link_closed', { statusType: 3, customStatus: 'x' }));
      actor.send(change('reconnect', latest, 1000, { statusType: 3, customStatus: 'x' }));
      return emitted.at(-1);
    };
    expect(endWith(ONLINE)).toEqual({ type: 'flap.ended', news: false });
    expect(endWith({ statusType: 2, customStatus: 'x' })).toEqual({ type: 'flap.ended', news: true });
    expect(endWith({ statusType: 1, customStatus: 'y' })).toEqual({ type: 'flap.ended', news: true });
  });

  it('EXT-7 a hold remembers what others saw before it and the latest status; it forgets both when it ends', () => {
    const { actor } = start();
    expect(actor.getSnapshot().context).toEqual({ before: null, latest: null });
    actor.send(change('heartbeat_timeout', { statusType: 2, customStatus: 'away' }, 1000, ONLINE));
    expect(actor.getSnapshot().context).toEqual({ before: ONLINE, latest: { statusType: 2, customStatus: 'away' } });
    actor.send(change('custom_status_cleared', { statusType: 2, customStatus: '' }, 1000, { statusType: 2, customStatus: 'away' }));
    // The latest moves; what others saw before the hold does not.
    expect(actor.getSnapshot().context).toEqual({ before: ONLINE, latest: { statusType: 2, customStatus: '' } });
    actor.send(change('login', ONLINE, 1000, { statusType: 2, customStatus: '' }));
    expect(actor.getSnapshot().context).toEqual({ before: null, latest: null });
  });

  it('EXT-7 the machine as exported: an empty record, and a grace of the default flapGraceMs', () => {
    // The persisted record starts as this context; the engine provides the grace from its limits.
    const clock = new SimulatedClock();
    const actor = createActor(flapMachine, { clock }).start();
    expect(actor.getSnapshot().context).toEqual({ before: null, latest: null });
    expect(flapMachine.implementations.delays).toEqual({ flapGrace: DEFAULT_LIMITS.flapGraceMs });
    actor.send(change('link_closed', { statusType: 3, customStatus: '' }));
    expect(actor.getSnapshot().value).toBe('holding');
    clock.increment(DEFAULT_LIMITS.flapGraceMs);
    expect(actor.getSnapshot().value).toBe('open');
  });
});
