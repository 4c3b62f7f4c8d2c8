// Lets an XState inspector (e.g. the Stately inspector) watch machines that the engine runs on compact
// records. Each machine instance gets a stand-in actor (created, never started) the first time it moves, and
// every transition is reported as XState reports it: `@xstate.actor`, then `@xstate.event` and
// `@xstate.snapshot` with a real machine snapshot. Costs nothing when no inspector is given.
import { createActor, type AnyActorRef, type AnyStateMachine, type EventObject, type InspectionEvent, type Observer } from 'xstate';
import type { CompiledMachine, RunnerSnapshot } from './runner';

/** The inspection events an inspector receives (XState's InspectionEvent, narrowed for what we send). */
export type InspectionEventLike = InspectionEvent & { actorRef: AnyActorRef; event: EventObject; snapshot?: unknown };

export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export class InspectBridge {
  private readonly send: (e: InspectionEvent) => void;
  private readonly actors = new Map<string, AnyActorRef>();

  constructor(
    inspect: InspectOption,
    private readonly rootId: string,
  ) {
    this.send = typeof inspect === 'function' ? inspect : (e) => inspect.next?.(e);
  }

  transition(
    runner: CompiledMachine<any, any, any>,
    instance: string,
    event: EventObject,
    snapshot: RunnerSnapshot<unknown>,
  ): void {
    const machine: AnyStateMachine = runner.machine;
    const id = `${machine.id}:${instance}`;
    const xsnapshot = machine.resolveState({ value: runner.stateValue(snapshot), context: snapshot.context });
    let actorRef = this.actors.get(id);
    if (!actorRef) {
      actorRef = createActor(machine, { id, snapshot: xsnapshot });
      this.actors.set(id, actorRef);
      this.send({ type: '@xstate.actor', actorRef, rootId: this.rootId } as InspectionEvent);
    }
    this.send({ type: '@xstate.event', actorRef, event, sourceRef: undefined, rootId: this.rootId } as InspectionEvent);
    this.send({ type: '@xstate.snapshot', actorRef, event, snapshot: xsnapshot, rootId: this.rootId } as InspectionEvent);
  }
}
