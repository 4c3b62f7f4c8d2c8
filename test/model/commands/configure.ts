// GATE-1..4: the edition, the switches and the limits change at run time; a change names only what it changes.
import type { LimitsM, Model } from '../model';
import type { Real } from '../real';
import { both, type ModelCommand } from './base';

export type Change = {
  edition?: 'trial' | 'pro' | 'ultimate';
  switches?: { userStatus?: boolean; friendStatusNotify?: boolean };
  limits?: Partial<LimitsM>;
};

export class ConfigureCommand implements ModelCommand {
  constructor(readonly change: Change) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const expected = m.configure(this.change);
    await both(m, r, this.toString(), expected, () => r.engine.configure(structuredClone(this.change)));
  }
  toString = () => `configure(${JSON.stringify(this.change)})`;
}
