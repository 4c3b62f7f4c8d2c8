// EXT-7: the flap machine on its own (a real XState actor on a SimulatedClock): which changes it holds back
// from others, what ends a hold, and whether the end is news.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { flapMachine, type FlapEmitted, type FlapEvent, type Seen } from '../../machines/flap';
import type { Reason } from '../../machines/spec';

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
});
