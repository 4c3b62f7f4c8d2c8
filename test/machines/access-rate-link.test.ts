// The app-wide access machine (GATE-*), the rate window (LIM-1, EXT-6) and the device link (DEV-2/DEV-3).
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, SimulatedClock, transition } from 'xstate';
import { accessMachine } from '../../machines/access';
import { rateWindowMachine } from '../../machines/rateWindow';
import { deviceLinkMachine } from '../../machines/deviceLink';

describe('access machine', () => {
  it('GATE-3 with Ultimate and the switch off, user status answers 72001 (switchOff)', () => {
    const [s] = initialTransition(accessMachine, {});
    expect(s.value).toEqual({ userStatus: 'switchOff', friendNotify: 'off' });
  });

  it('GATE-2 GATE-3 a lacking edition wins over a missing switch (3122 before 72001)', () => {
    const [s0] = initialTransition(accessMachine, {});
    const [s1] = transition(accessMachine, s0, { type: 'CONFIG.CHANGE', edition: 'pro' });
    expect(s1.value).toEqual({ userStatus: 'editionLacks', friendNotify: 'off' });
    const [s2] = transition(accessMachine, s1, { type: 'CONFIG.CHANGE', switches: { userStatus: true } });
    expect(s2.value).toMatchObject({ userStatus: 'editionLacks' });
    const [s3] = transition(accessMachine, s2, { type: 'CONFIG.CHANGE', edition: 'ultimate' });
    expect(s3.value).toMatchObject({ userStatus: 'enabled' });
  });

  it('GATE-1 a change names only what it changes: other switches and limits keep their values', () => {
    const [s0] = initialTransition(accessMachine, {});
    const [s1] = transition(accessMachine, s0, {
      type: 'CONFIG.CHANGE',
      switches: { friendStatusNotify: true },
      limits: { rateLimit: { requests: 3 } },
    });
    const [s2] = transition(accessMachine, s1, { type: 'CONFIG.CHANGE', switches: { userStatus: true } });
    expect(s2.context.switches).toEqual({ userStatus: true, friendStatusNotify: true });
    expect(s2.context.limits.rateLimit).toEqual({ requests: 3, windowMs: 5000 });
    expect(s2.value).toEqual({ userStatus: 'enabled', friendNotify: 'on' });
  });
});

describe('rate window machine', () => {
  const req = (now: number, requests = 3, windowMs = 1000) => ({ type: 'RATE.REQUEST' as const, now, requests, windowMs });
  it('LIM-1 EXT-6 admits `requests` calls per window, refuses the next with the time to retry', () => {
    let [s] = initialTransition(rateWindowMachine, {});
    let refused: any[] = [];
    for (const t of [0, 100, 200, 300]) {
      const [next, actions] = transition(rateWindowMachine, s, req(t));
      s = next;
      refused = actions.filter((a) => (a.type as string) === 'xstate.emit').map((a) => (a.params as { event: unknown }).event);
    }
    expect(s.context.stamps).toEqual([0, 100, 200]);
    expect(s.value).toBe('saturated');
    expect(refused).toEqual([{ type: 'rate.refused', retryAfterMs: 700, requests: 3, windowMs: 1000 }]);
    // At 1000 the call of time 0 has left the window (0 <= 1000 - 1000): one place is free again.
    const [after] = transition(rateWindowMachine, s, req(1000));
    expect(after.context.stamps).toEqual([100, 200, 1000]);
  });
});

describe('device link machine', () => {
  it('DEV-2 a silent link is reported lost after the heartbeat timeout; a heartbeat in time saves it', () => {
    const clock = new SimulatedClock();
    const lost: any[] = [];
    const link = createActor(deviceLinkMachine, { clock, input: { platform: 'web' } }).start();
    link.on('link.lost', (e) => lost.push(e));
    link.send({ type: 'LINK.SILENT' });
    clock.increment(59_999);
    link.send({ type: 'LINK.HEARTBEAT' });
    clock.increment(100_000);
    expect(lost).toEqual([]);
    link.send({ type: 'LINK.SILENT' });
    clock.increment(60_000);
    expect(lost).toEqual([{ type: 'link.lost', reason: 'heartbeat_timeout' }]);
  });

  it('DEV-3 a native link waits the native timeout', () => {
    const clock = new SimulatedClock();
    const lost: any[] = [];
    const link = createActor(deviceLinkMachine, { clock, input: { platform: 'ios' } }).start();
    link.on('link.lost', (e) => lost.push(e));
    link.send({ type: 'LINK.SILENT' });
    clock.increment(399_999);
    expect(lost).toEqual([]);
    clock.increment(1);
    expect(lost).toHaveLength(1);
  });

  it('DEV-2 a closed link is reported at once', () => {
    const [s0] = initialTransition(deviceLinkMachine, { platform: 'web' });
    const [, actions] = transition(deviceLinkMachine, s0, { type: 'LINK.CLOSED' });
    expect(actions.some((a) => (a.type as string) === 'xstate.emit' && (a as any).params.event.reason === 'link_closed')).toBe(true);
  });
});
