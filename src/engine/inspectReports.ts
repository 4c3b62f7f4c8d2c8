// Inspection reports of the compact runners (src/engine/inspect.ts) leave like deliveries: after the
// command has landed, never for one the store rolled back. Costs nothing without an inspector.
import type { EventObject } from 'xstate';
import type { InspectBridge, StepInfo } from './inspect';
import type { CompiledMachine, RunnerSnapshot } from './runner';
import type { Transaction } from './transaction';

export class InspectReports {
  constructor(
    private readonly bridge: InspectBridge | null,
    private readonly tx: Transaction,
  ) {}

  /** Whether anyone inspects: callers skip building a report's details when not. */
  get on(): boolean {
    return this.bridge !== null;
  }

  transition(runner: CompiledMachine<any, any, any>, instance: string, event: EventObject, snapshot: RunnerSnapshot<unknown>, info?: StepInfo): void {
    const bridge = this.bridge;
    if (!bridge) return;
    // The device whose call this step belongs to, when the command names one (not the event).
    const c = this.tx.command as { userID?: string; deviceId?: string } | undefined;
    const via = c?.deviceId !== undefined && c.userID === instance ? { ...info, via: c.deviceId } : info;
    this.tx.afterCommit(() => bridge.transition(runner, instance, event, snapshot, via));
  }

  /** A step that is not part of a command's state (a refusal of the rate machine): reported at once. */
  now(runner: CompiledMachine<any, any, any>, instance: string, event: EventObject, snapshot: RunnerSnapshot<unknown>, info?: StepInfo): void {
    this.bridge?.transition(runner, instance, event, snapshot, info);
  }
}
