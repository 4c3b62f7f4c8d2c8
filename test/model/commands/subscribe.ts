// SUB-1..8, EXT-4 eviction notices, and EXT-2's pushCurrent (the current status as the viewer sees it).
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class SubscribeCommand implements ModelCommand {
  constructor(readonly target: Target, readonly userIDList: string[], readonly pushCurrent = false) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const ids = this.target.ids(m, this.userIDList);
    const expected = m.subscribe(device, ids, this.pushCurrent);
    const options = this.pushCurrent ? { userIDList: ids, pushCurrent: true } : { userIDList: ids };
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.subscribeUserStatus(options)));
  }
  toString = () => `subscribe(${this.target}, ${JSON.stringify(this.userIDList)}${this.pushCurrent ? ', pushCurrent' : ''})`;
}
