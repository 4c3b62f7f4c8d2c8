// EXT-7 flap damping for one user: a change caused by a lost link is held back from others for the grace
// (`flapGrace`, the engine's flapGraceMs). A comeback within it ends the hold, and so does the grace's end;
// either way others then hear the final state, if it differs from what they saw before. Pure: the grace
// arrives in the event, the delay is named, and what others must hear leaves as an emitted event.
import { assign, emit, setup } from 'xstate';
import { DEFAULT_LIMITS, type Reason, type StatusType } from './spec';

/** What others saw, or see now, of the user. */
export interface Seen {
  statusType: StatusType;
  customStatus: string;
}

export interface FlapContext {
  /** While holding: what others saw before the flap. */
  before: Seen | null;
  /** While holding: the user's latest status. */
  latest: Seen | null;
}

/** One change of the user's status; `graceMs` is flapGraceMs at the time (0: damping off). */
export type FlapEvent = { type: 'STATUS.CHANGED'; reason: Reason; statusType: StatusType; customStatus: string; before: Seen; graceMs: number };

export type FlapEmitted =
  /** Others may hear this change now. */
  | { type: 'flap.pass' }
  /** Held back. */
  | { type: 'flap.held' }
  /** The hold ended: `news` says whether the final state differs from what others saw before it. */
  | { type: 'flap.ended'; news: boolean };

const changed = (a: Seen | null, b: Seen | null) => a === null || b === null || a.statusType !== b.statusType || a.customStatus !== b.customStatus;

export const flapMachine = setup({
  types: {
    context: {} as FlapContext,
    events: {} as FlapEvent,
    emitted: {} as FlapEmitted,
  },
  guards: {
    /** A lost link, with damping on. */
    linkLost: ({ event }) => event.graceMs > 0 && (event.reason === 'link_closed' || event.reason === 'heartbeat_timeout'),
    /** The user is back. */
    comeback: ({ event }) => event.reason === 'reconnect' || event.reason === 'login' || event.reason === 'foreground',
  },
  actions: {
    pass: emit({ type: 'flap.pass' as const }),
    held: emit({ type: 'flap.held' as const }),
    hold: assign({
      before: ({ event }) => ({ statusType: event.before.statusType, customStatus: event.before.customStatus }),
      latest: ({ event }) => ({ statusType: event.statusType, customStatus: event.customStatus }),
    }),
    take: assign({ latest: ({ event }) => ({ statusType: event.statusType, customStatus: event.customStatus }) }),
    end: emit(({ context }) => ({ type: 'flap.ended' as const, news: changed(context.before, context.latest) })),
    forget: assign({ before: null, latest: null }),
  },
  delays: {
    /** EXT-7: the engine's flapGraceMs (the default turns damping off). */
    flapGrace: DEFAULT_LIMITS.flapGraceMs,
  },
}).createMachine({
  id: 'flap',
  context: { before: null, latest: null },
  initial: 'open',
  states: {
    open: {
      description: 'Others hear every change.',
      on: {
        'STATUS.CHANGED': [{ guard: 'linkLost', target: 'holding', actions: ['hold', 'held'] }, { actions: 'pass' }],
      },
    },
    holding: {
      description: 'EXT-7: a lost link is held back from others until a comeback or the end of the grace.',
      after: { flapGrace: { target: 'open', actions: ['end', 'forget'] } },
      on: {
        'STATUS.CHANGED': [
          { guard: 'comeback', target: 'open', actions: ['take', 'end', 'forget'] },
          { actions: ['take', 'held'] },
        ],
      },
    },
  },
});
