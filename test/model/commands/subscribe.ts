// SUB-1..8 and EXT-4 eviction notices.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class SubscribeCommand implements ModelCommand {
  constructor(readonly target: Target, readonly userIDList: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const ids = this.target.ids(m, this.userIDList);
    const expected = m.subscribe(device, ids);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.subscribeUserStatus({ userIDList: ids })));
  }
  toString = () => `subscribe(${this.target}, ${JSON.stringify(this.userIDList)})`;
}
