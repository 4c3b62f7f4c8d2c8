// What the machine steppers share: a runner's delayed events turned into the timer mechanism's requests
// (by delay name and state path, item 4), so that no generated id reaches the store.
import type { TimerOp } from './runner';
import type { CompiledMachine } from './runner';
import type { TimerRequest } from './timers';

export function timerRequests(runner: CompiledMachine<any, any, any>, ops: readonly TimerOp[]): TimerRequest[] {
  return ops.map((op) => {
    const { delay, state } = runner.afterNames(op.id);
    return op.op === 'schedule' ? { op: 'schedule', delay, state, delayMs: op.delayMs } : { op: 'cancel', delay, state };
  });
}
