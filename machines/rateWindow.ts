// LIM-1 and EXT-6: one user's sliding rate window for one API. A call is admitted when fewer than
// `requests` admitted calls fall in the last `windowMs` (the interval (now - windowMs, now]); a refused call
// changes nothing and learns when the oldest admitted call leaves the window. The time comes in the event:
// the machine reads no clock and needs no timer.
import { assign, emit, setup } from 'xstate';

export interface RateWindowContext {
  /** Times of the admitted calls still in the window, oldest first. */
  stamps: number[];
}

/** The limits come with every request, so that a change of `rateLimit` applies to the next call (GATE-1). */
export type RateWindowEvent = { type: 'RATE.REQUEST'; now: number; requests: number; windowMs: number };

export type RateWindowEmitted = {
  type: 'rate.refused';
  retryAfterMs: number;
  requests: number;
  windowMs: number;
};

const inWindow = (stamps: readonly number[], e: RateWindowEvent): number[] => {
  const since = e.now - e.windowMs;
  let i = 0;
  while (i < stamps.length && (stamps[i] as number) <= since) i++;
  return i === 0 ? (stamps as number[]) : stamps.slice(i);
};

export const rateWindowMachine = setup({
  types: {
    context: {} as RateWindowContext,
    events: {} as RateWindowEvent,
    emitted: {} as RateWindowEmitted,
    input: {} as Partial<RateWindowContext> | undefined,
  },
  guards: {
    /** This call takes the last free place of the window. */
    takesLastPlace: ({ context, event }) => inWindow(context.stamps, event).length === event.requests - 1,
    hasRoom: ({ context, event }) => inWindow(context.stamps, event).length < event.requests,
  },
  actions: {
    admit: assign({ stamps: ({ context, event }) => [...inWindow(context.stamps, event), event.now] }),
    /** EXT-6: the refusal says when to retry and the window's numbers. */
    refuse: emit(({ context, event }) => {
      const live = inWindow(context.stamps, event);
      // The oldest call that must leave before one more fits.
      const blocker = live[live.length - event.requests] ?? event.now;
      return {
        type: 'rate.refused' as const,
        retryAfterMs: Math.max(1, blocker + event.windowMs - event.now),
        requests: event.requests,
        windowMs: event.windowMs,
      };
    }),
  },
}).createMachine({
  id: 'rateWindow',
  context: ({ input }) => ({ stamps: [], ...input }),
  initial: 'open',
  states: {
    open: {
      description: 'Fewer than `requests` calls in the window.',
      on: {
        'RATE.REQUEST': [
          { guard: 'takesLastPlace', target: 'saturated', actions: 'admit' },
          { guard: 'hasRoom', actions: 'admit' },
          { target: 'saturated', actions: 'refuse' },
        ],
      },
    },
    saturated: {
      description: 'The window is full until its oldest call ages out (LIM-1: the next call fails with 2996).',
      on: {
        'RATE.REQUEST': [
          { guard: 'takesLastPlace', actions: 'admit' },
          { guard: 'hasRoom', target: 'open', actions: 'admit' },
          { actions: 'refuse' },
        ],
      },
    },
  },
});
