// What the machine steppers share: a runner's delayed events turned into the timer mechanism's requests
// (by delay name and state path, item 4), so that no generated id reaches the store.
import type { TimerOp } from './runner';
import type { CompiledMachine } from './runner';
import type { TimerRequest } from './timers';

const NONE: readonly TimerRequest[] = [];

export function timerRequests(runner: CompiledMachine<any, any, any>, ops: readonly TimerOp[]): readonly TimerRequest[] {
  if (ops.length === 0) return NONE;
  const out: TimerRequest[] = [];
  for (const op of ops) {
    const { delay, state } = runner.afterNames(op.id);
    out.push(op.op === 'schedule' ? { op: 'schedule', delay, state, delayMs: op.delayMs } : { op: 'cancel', delay, state });
  }
  return out;
}
