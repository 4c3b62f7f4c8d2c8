// One user's subscription list: SUB-1, SUB-3..8, UNSUB-1..5 and the lifecycle events of EXT-4. The engine
// validates the userIDs (registered, not the owner) before they reach the machine; the machine owns the
// order, the quota and the clearing after logout.
import { assign, emit, setup } from 'xstate';
import { DEFAULT_LIMITS, type Reason } from './spec';

export interface SubscriptionsContext {
  /** Subscribed userIDs, earliest first (SUB-8 evicts from the front). */
  list: string[];
}

export type SubscriptionsEvent =
  /** `quota` is the engine's subscriptionQuota at the time of the call. */
  | { type: 'SUB.ADD'; userIDs: readonly string[]; quota: number }
  | { type: 'SUB.REMOVE'; userIDs: readonly string[] }
  | { type: 'SUB.REMOVE_ALL' }
  /** UNSUB-5: the owner became UNLOGINED ... */
  | { type: 'OWNER.LOGGED_OUT' }
  /** ... or came back before the delay ran out. */
  | { type: 'OWNER.LOGGED_IN' };

export type SubscriptionsEmitted =
  | { type: 'subscriptions.added'; userIDs: string[] }
  | {
      type: 'subscriptions.ended';
      userIDs: string[];
      reason: Extract<Reason, 'unsubscribed' | 'subscription_evicted' | 'subscriptions_cleared'>;
    };

/** SUB-8: each id moves to (or joins at) the newest place; beyond the quota the earliest are evicted. */
export function addWithQuota(
  list: readonly string[],
  userIDs: readonly string[],
  quota: number,
): { list: string[]; added: string[]; evicted: string[] } {
  const incoming = new Set(userIDs);
  const kept = list.filter((id) => !incoming.has(id));
  const merged = [...kept, ...incoming];
  const cut = Math.max(0, merged.length - quota);
  const next = merged.slice(cut);
  const before = new Set(list);
  // merged holds each id once, so what is cut off the front is exactly what leaves.
  return { list: next, added: next.filter((id) => !before.has(id)), evicted: merged.slice(0, cut) };
}

type AddEvent = Extract<SubscriptionsEvent, { type: 'SUB.ADD' }>;
type RemoveEvent = Extract<SubscriptionsEvent, { type: 'SUB.REMOVE' }>;

export const subscriptionsMachine = setup({
  types: {
    context: {} as SubscriptionsContext,
    events: {} as SubscriptionsEvent,
    emitted: {} as SubscriptionsEmitted,
    input: {} as Partial<SubscriptionsContext> | undefined,
  },
  guards: {
    hasSubscriptions: ({ context }) => context.list.length > 0,
    quotaOverflows: ({ context, event }) => {
      const e = event as AddEvent;
      return addWithQuota(context.list, e.userIDs, e.quota).evicted.length > 0;
    },
    /** UNSUB-4: removing users that are not subscribed changes nothing. */
    removesSomething: ({ context, event }) => {
      const gone = new Set((event as RemoveEvent).userIDs);
      return context.list.some((id) => gone.has(id));
    },
  },
  actions: {
    announceAdded: emit(({ context, event }) => {
      const e = event as AddEvent;
      return { type: 'subscriptions.added' as const, userIDs: addWithQuota(context.list, e.userIDs, e.quota).added };
    }),
    /** EXT-4: the subscriber hears of what the quota pushed out. */
    announceEvicted: emit(({ context, event }) => {
      const e = event as AddEvent;
      return {
        type: 'subscriptions.ended' as const,
        userIDs: addWithQuota(context.list, e.userIDs, e.quota).evicted,
        reason: 'subscription_evicted' as const,
      };
    }),
    add: assign({
      list: ({ context, event }) => {
        const e = event as AddEvent;
        return addWithQuota(context.list, e.userIDs, e.quota).list;
      },
    }),
    announceRemoved: emit(({ context, event }) => {
      const gone = new Set((event as RemoveEvent).userIDs);
      return {
        type: 'subscriptions.ended' as const,
        userIDs: context.list.filter((id) => gone.has(id)),
        reason: 'unsubscribed' as const,
      };
    }),
    remove: assign({
      list: ({ context, event }) => {
        const gone = new Set((event as RemoveEvent).userIDs);
        return context.list.filter((id) => !gone.has(id));
      },
    }),
    announceRemovedAll: emit(({ context }) => ({
      type: 'subscriptions.ended' as const,
      userIDs: context.list,
      reason: 'unsubscribed' as const,
    })),
    /** UNSUB-5 / EXT-4: cleared after logout. */
    announceCleared: emit(({ context }) => ({
      type: 'subscriptions.ended' as const,
      userIDs: context.list,
      reason: 'subscriptions_cleared' as const,
    })),
    removeAll: assign({ list: () => [] }),
  },
  delays: {
    /** UNSUB-5: how long the list outlives the owner's logout. */
    subscriptionClearAfterLogout: DEFAULT_LIMITS.subscriptionClearAfterLogoutMs,
  },
}).createMachine({
  id: 'subscriptions',
  context: ({ input }) => ({ list: [], ...input }),
  initial: 'kept',
  states: {
    kept: {
      description: 'The owner is logged in, or has nothing to clear.',
      on: {
        'SUB.ADD': [
          { guard: 'quotaOverflows', actions: ['announceAdded', 'announceEvicted', 'add'] },
          { actions: ['announceAdded', 'add'] },
        ],
        'SUB.REMOVE': { guard: 'removesSomething', actions: ['announceRemoved', 'remove'] },
        'SUB.REMOVE_ALL': { guard: 'hasSubscriptions', actions: ['announceRemovedAll', 'removeAll'] },
        'OWNER.LOGGED_OUT': { guard: 'hasSubscriptions', target: 'clearPending' },
      },
    },
    clearPending: {
      description: 'UNSUB-5: the owner is UNLOGINED; the list is cleared unless the owner logs in first.',
      after: {
        subscriptionClearAfterLogout: { target: 'kept', actions: ['announceCleared', 'removeAll'] },
      },
      on: {
        'OWNER.LOGGED_IN': { target: 'kept' },
      },
    },
  },
});
