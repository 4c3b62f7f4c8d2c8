// EXT-5 visibility, and issue 17: only the viewers whose view flips are told, and no one else's version moves.
import type { Model, VisibilityM } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class SetVisibilityCommand implements ModelCommand {
  constructor(readonly target: Target, readonly visibility: VisibilityM) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const expected = m.setVisibility(device, this.visibility);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.setVisibility(this.visibility)));
  }
  toString = () => `setVisibility(${this.target}, ${this.visibility})`;
}
