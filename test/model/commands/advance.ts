// Time passes: heartbeat timeouts, the clearing delays after logout, rate windows sliding. The clock is
// moved to each instant the model expects a timer at, so both sides fire it at the same time.
import type { Model } from '../model';
import type { Real } from '../real';
import { both, type ModelCommand } from './base';

export class AdvanceCommand implements ModelCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const target = m.now + this.ms;
    await both(m, r, this.toString(), { ok: undefined }, () => {
      for (let due = m.nextDue(); due !== null && due <= target; due = m.nextDue()) {
        r.clock.set(due);
        m.fireDue(due);
      }
      r.clock.set(target);
      m.advanceTo(target);
    });
  }
  toString = () => `advance(${this.ms})`;
}
