// GATE-1..4: the app's edition and console switches, and what they allow. One instance per engine. The
// engine asks the current state, never the raw settings: `userStatus.enabled` lets a call through,
// `userStatus.editionLacks` answers 3122 and `userStatus.switchOff` answers 72001 (3122 wins when both
// apply); `friendNotify.on` turns on NTF-2(c).
import { assign, setup } from 'xstate';
import { DEFAULT_LIMITS, type Edition, type Limits, type LimitsChange } from './spec';

export interface Switches {
  userStatus: boolean;
  friendStatusNotify: boolean;
}

export interface AccessContext {
  edition: Edition;
  switches: Switches;
  limits: Limits;
}

/** GATE-1: a change names only what it changes; what it leaves out keeps its value. */
export type AccessEvent = {
  type: 'CONFIG.CHANGE';
  edition?: Edition;
  switches?: Partial<Switches>;
  limits?: LimitsChange;
};

export const defaultAccessContext = (): AccessContext => ({
  edition: 'ultimate',
  switches: { userStatus: false, friendStatusNotify: false },
  limits: { ...DEFAULT_LIMITS, rateLimit: { ...DEFAULT_LIMITS.rateLimit } },
});

/** Merge a change into the settings, key by key (GATE-1). */
export function mergeSettings(context: AccessContext, change: Omit<AccessEvent, 'type'>): AccessContext {
  return {
    edition: change.edition ?? context.edition,
    switches: { ...context.switches, ...change.switches },
    limits: {
      ...context.limits,
      ...change.limits,
      rateLimit: { ...context.limits.rateLimit, ...change.limits?.rateLimit },
    },
  };
}

/** GATE-2: only Ultimate carries the user-status feature. */
export const editionHasUserStatus = (edition: Edition): boolean => edition === 'ultimate';

export const accessMachine = setup({
  types: {
    context: {} as AccessContext,
    events: {} as AccessEvent,
    input: {} as Partial<AccessContext> | undefined,
  },
  guards: {
    editionLacksUserStatus: ({ context }) => !editionHasUserStatus(context.edition),
    userStatusSwitchOff: ({ context }) => !context.switches.userStatus,
    friendNotifyOn: ({ context }) => context.switches.friendStatusNotify,
  },
  actions: {
    applyChange: assign(({ context, event }) => mergeSettings(context, event)),
  },
}).createMachine({
  id: 'access',
  context: ({ input }) => ({ ...defaultAccessContext(), ...input }),
  type: 'parallel',
  on: {
    'CONFIG.CHANGE': {
      actions: 'applyChange',
      target: ['.userStatus.deciding', '.friendNotify.deciding'],
    },
  },
  states: {
    userStatus: {
      description: 'Queries of others, subscribe and unsubscribe (GATE-2, GATE-3), and NTF-2(b) deliveries (NTF-4).',
      initial: 'deciding',
      states: {
        deciding: {
          always: [
            { guard: 'editionLacksUserStatus', target: 'editionLacks' },
            { guard: 'userStatusSwitchOff', target: 'switchOff' },
            { target: 'enabled' },
          ],
        },
        editionLacks: { description: 'GATE-2: fails with 3122.' },
        switchOff: { description: 'GATE-3: fails with 72001.' },
        enabled: {},
      },
    },
    friendNotify: {
      description: 'NTF-2(c): friends hear of each other without subscribing.',
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'friendNotifyOn', target: 'on' }, { target: 'off' }] },
        on: {},
        off: {},
      },
    },
  },
});
