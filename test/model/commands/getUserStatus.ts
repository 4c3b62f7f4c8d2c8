// GET-1..6 and CL-2: query a list (self-only lists are answered by the client).
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class GetUserStatusCommand implements ModelCommand {
  constructor(readonly target: Target, readonly userIDList: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const ids = this.target.ids(m, this.userIDList);
    const expected = m.getUserStatus(device, ids);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.getUserStatus({ userIDList: ids })));
  }
  toString = () => `getUserStatus(${this.target}, ${JSON.stringify(this.userIDList)})`;
}
