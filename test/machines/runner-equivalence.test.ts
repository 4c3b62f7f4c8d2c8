// The runner must agree with XState itself: for random event sequences (and clock advances that fire the
// delayed transitions), the state value, the context and the emitted events are the same after every step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor, SimulatedClock, type AnyStateMachine, type EventObject } from 'xstate';
import { CompiledMachine, type RunnerSnapshot } from '../../src/engine/runner';
import { userStatusMachine } from '../../machines/userStatus';
import { subscriptionsMachine } from '../../machines/subscriptions';
import { rateWindowMachine } from '../../machines/rateWindow';
import { deviceLinkMachine } from '../../machines/deviceLink';
import { accessMachine } from '../../machines/access';
import { deviceLinkSteps, rateRequests, subscriptionsSteps, userStatusSteps, type Step } from './arbitraries';

function compare(machine: AnyStateMachine, steps: Step<EventObject>[], input?: unknown) {
  const clockA = new SimulatedClock();
  const actor = createActor(machine, { clock: clockA, input });
  const fromXState: unknown[] = [];
  actor.on('*', (e) => fromXState.push(e));
  actor.start();

  const runner = new CompiledMachine(machine);
  const clockB = new SimulatedClock();
  const timers = new Map<string, any>();
  const fromRunner: unknown[] = [];
  let snap: RunnerSnapshot<unknown>;
  const apply = (step: ReturnType<typeof runner.initial>) => {
    snap = step.snapshot;
    fromRunner.push(...step.emitted);
    for (const op of step.timers) {
      const old = timers.get(op.id);
      if (old !== undefined) clockB.clearTimeout(old);
      timers.delete(op.id);
      if (op.op === 'schedule') {
        timers.set(op.id, clockB.setTimeout(() => {
          timers.delete(op.id);
          apply(runner.transition(snap, op.event));
        }, op.delayMs));
      }
    }
  };
  apply(runner.initial(input));

  const check = (label: string) => {
    const x = actor.getSnapshot();
    expect(runner.stateValue(snap), label).toEqual(x.value);
    expect(snap.context, label).toEqual(x.context);
    expect(fromRunner, label).toEqual(fromXState);
  };
  check('initial');
  steps.forEach((s, i) => {
    if (s.kind === 'event') {
      actor.send(s.event);
      apply(runner.transition(snap, s.event));
    } else {
      clockA.increment(s.ms);
      clockB.increment(s.ms);
    }
    check(`step ${i}: ${JSON.stringify(s)}`);
  });
  actor.stop();
}

describe('the runner agrees with XState', () => {
  it('ST-4 ST-5 ST-6 DEV-2 DEV-3 DEV-4 CS-5 user status machine, random device and status events', () => {
    fc.assert(fc.property(userStatusSteps, (steps) => compare(userStatusMachine, steps)), { numRuns: 300 });
  });
  it('SUB-8 UNSUB-5 subscription machine, random adds, removes, logouts and clock advances', () => {
    fc.assert(fc.property(subscriptionsSteps, (steps) => compare(subscriptionsMachine, steps)), { numRuns: 300 });
  });
  it('LIM-1 rate window machine, random requests', () => {
    fc.assert(
      fc.property(rateRequests, (reqs) => compare(rateWindowMachine, reqs.map((event) => ({ kind: 'event' as const, event })))),
      { numRuns: 300 },
    );
  });
  it('DEV-2 device link machine, random link events and clock advances', () => {
    fc.assert(
      fc.property(deviceLinkSteps, fc.constantFrom('web', 'ios'), (steps, platform) => compare(deviceLinkMachine, steps, { platform })),
      { numRuns: 200 },
    );
  });
  it('refuses machines it cannot run faithfully (parallel states)', () => {
    expect(() => new CompiledMachine(accessMachine)).toThrow(/parallel/);
  });
});
