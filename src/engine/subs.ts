// One event to one user's subscription list (SUB, UNSUB), with its journal entry, its timers and the
// endings the subscriber is told of (EXT-4).
import type { Reason } from '../../machines/spec';
import type { SubscriptionsEvent } from '../../machines/subscriptions';
import { EVENT } from '../events';
import type { SubscriptionsRecord } from '../records';
import type { Store } from '../store/types';
import type { InspectReports } from './inspectReports';
import type { Rules } from './rules/index';
import type { Runners } from './runners';
import type { Shard } from './shard';
import { timerRequests } from './steps';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

export class SubscriptionSteps {
  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly timers: DurableTimers,
    private readonly runners: Runners,
    private readonly rules: Rules,
    private readonly reports: InspectReports,
    private readonly journalOn: boolean,
    private readonly shard: Shard,
  ) {}

  step(userID: string, event: SubscriptionsEvent): SubscriptionsRecord {
    const { store, tx, runners } = this;
    const before = store.getSubscriptions(userID) ?? runners.subsInitial;
    const step = runners.subs.transition(before, event);
    if (!step.handled) return before;
    // Read before anything else runs (the runner fills the same answer again).
    const { snapshot, emitted, timers } = step;
    if (this.reports.on) this.reports.transition(runners.subs, userID, event, snapshot, { before });
    this.timers.apply('subscriptions', userID, timerRequests(runners.subs, timers));
    const added: string[] = [];
    const removed: string[] = [];
    let reason: Reason = 'subscribed';
    for (let i = 0; i < emitted.length; i++) {
      const em = emitted[i] as (typeof emitted)[number];
      if (em.type === 'subscriptions.added') added.push(...em.userIDs);
      else {
        removed.push(...em.userIDs);
        reason = em.reason;
        // EXT-4: the subscriber hears of an ending it did not ask for; if it is away, at its next login.
        const ending = this.rules.endingOf(em.reason, em.userIDs);
        if (ending && 'tell' in ending) tx.send(userID, { name: EVENT.SUBSCRIPTION_ENDED, data: ending.tell });
        else if (ending) store.putNotice(userID, ending.keep);
      }
    }
    // An owner's login or logout (UNSUB-5) usually moves no target: then there is nothing to net out.
    let delta = { added, removed };
    if (added.length > 0 && removed.length > 0) {
      const evicted = new Set(added.filter((id) => removed.includes(id)));
      delta = { added: added.filter((id) => !evicted.has(id)), removed: removed.filter((id) => !evicted.has(id)) };
    }
    store.putSubscriptions(userID, snapshot, delta);
    // Each target's owner keeps who subscribes to it (NTF-2 b): an edge to another engine's user is mirrored there.
    this.shard.mirror('subscription', userID, delta.added, delta.removed);
    if (this.journalOn && (snapshot.value !== before.value || delta.added.length || delta.removed.length)) {
      store.append({
        seq: ++tx.seq,
        at: tx.now,
        kind: 'transition',
        cause: tx.cause,
        machine: 'subscriptions',
        userID,
        reason: delta.added.length && !delta.removed.length ? 'subscribed' : reason,
        from: runners.subs.pathOf(before),
        to: runners.subs.pathOf(snapshot),
        added: delta.added,
        removed: delta.removed,
      });
    }
    return snapshot;
  }
}
