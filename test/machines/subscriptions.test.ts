// The subscription list machine on its own (SUB-8, UNSUB-5, EXT-4).
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, SimulatedClock, transition } from 'xstate';
import { addWithQuota, subscriptionsMachine, type SubscriptionsEvent } from '../../machines/subscriptions';

function run(events: SubscriptionsEvent[]) {
  let [snapshot] = initialTransition(subscriptionsMachine, {});
  const emitted: any[] = [];
  for (const e of events) {
    const [next, actions] = transition(subscriptionsMachine, snapshot, e);
    snapshot = next;
    for (const a of actions) if ((a.type as string) === 'xstate.emit') emitted.push((a as any).params.event);
  }
  return { snapshot, emitted };
}

describe('subscription list machine', () => {
  it('SUB-8 beyond the quota the earliest subscription is evicted, and the subscriber is told (EXT-4)', () => {
    const { snapshot, emitted } = run([
      { type: 'SUB.ADD', userIDs: ['a', 'b', 'c'], quota: 3 },
      { type: 'SUB.ADD', userIDs: ['d'], quota: 3 },
    ]);
    expect(snapshot.context.list).toEqual(['b', 'c', 'd']);
    expect(emitted.at(-1)).toEqual({ type: 'subscriptions.ended', userIDs: ['a'], reason: 'subscription_evicted' });
  });

  it('SUB-8 subscribing again moves a user to the newest place', () => {
    const { snapshot } = run([
      { type: 'SUB.ADD', userIDs: ['a', 'b', 'c'], quota: 3 },
      { type: 'SUB.ADD', userIDs: ['a'], quota: 3 },
      { type: 'SUB.ADD', userIDs: ['d'], quota: 3 },
    ]);
    expect(snapshot.context.list).toEqual(['c', 'a', 'd']);
  });

  it('SUB-8 addWithQuota keeps order, dedupes, and reports what joined and what was pushed out', () => {
    expect(addWithQuota(['a', 'b'], ['b', 'c', 'c'], 10)).toEqual({ list: ['a', 'b', 'c'], added: ['c'], evicted: [] });
    expect(addWithQuota(['a', 'b'], ['c', 'd', 'e'], 2)).toEqual({ list: ['d', 'e'], added: ['d', 'e'], evicted: ['a', 'b', 'c'] });
  });

  it('UNSUB-1 UNSUB-4 removing users drops only those subscribed; removing others changes nothing', () => {
    const { snapshot, emitted } = run([
      { type: 'SUB.ADD', userIDs: ['a', 'b'], quota: 5 },
      { type: 'SUB.REMOVE', userIDs: ['a', 'x'] },
      { type: 'SUB.REMOVE', userIDs: ['y'] },
    ]);
    expect(snapshot.context.list).toEqual(['b']);
    expect(emitted.filter((e) => e.type === 'subscriptions.ended')).toEqual([{ type: 'subscriptions.ended', userIDs: ['a'], reason: 'unsubscribed' }]);
  });

  it('UNSUB-2 remove-all empties the list', () => {
    const { snapshot } = run([{ type: 'SUB.ADD', userIDs: ['a', 'b'], quota: 5 }, { type: 'SUB.REMOVE_ALL' }]);
    expect(snapshot.context.list).toEqual([]);
  });

  it('UNSUB-5 the list is cleared subscriptionClearAfterLogout after the owner logs out, and kept if the owner returns', () => {
    const clock = new SimulatedClock();
    const actor = createActor(subscriptionsMachine, { clock, input: {} }).start();
    const ended: any[] = [];
    actor.on('subscriptions.ended', (e) => ended.push(e));
    actor.send({ type: 'SUB.ADD', userIDs: ['a'], quota: 5 });
    actor.send({ type: 'OWNER.LOGGED_OUT' });
    expect(actor.getSnapshot().value).toBe('clearPending');
    clock.increment(300_000);
    expect(actor.getSnapshot().context.list).toEqual([]);
    expect(ended).toEqual([{ type: 'subscriptions.ended', userIDs: ['a'], reason: 'subscriptions_cleared' }]);

    const kept = createActor(subscriptionsMachine, { clock, input: {} }).start();
    kept.send({ type: 'SUB.ADD', userIDs: ['a'], quota: 5 });
    kept.send({ type: 'OWNER.LOGGED_OUT' });
    clock.increment(299_999);
    kept.send({ type: 'OWNER.LOGGED_IN' });
    clock.increment(10);
    expect(kept.getSnapshot().context.list).toEqual(['a']);
  });

  it('UNSUB-5 a logout with nothing subscribed starts no timer', () => {
    const { snapshot } = run([{ type: 'OWNER.LOGGED_OUT' }]);
    expect(snapshot.value).toBe('kept');
  });
});
