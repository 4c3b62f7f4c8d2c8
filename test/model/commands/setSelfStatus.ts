// CS-1..7: set or clear the custom status; the byte limit (6017); same value again is silent.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class SetSelfStatusCommand implements ModelCommand {
  constructor(readonly target: Target, readonly customStatus: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const expected = m.setSelfStatus(device, this.customStatus);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.setSelfStatus({ customStatus: this.customStatus })));
  }
  toString = () => `setSelfStatus(${this.target}, ${JSON.stringify(this.customStatus)})`;
}
