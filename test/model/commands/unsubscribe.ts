// UNSUB-1..4: remove some, or all with no list (or an empty one).
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class UnsubscribeCommand implements ModelCommand {
  /** `undefined`: `unsubscribeUserStatus()` with no options; `null`: `{userIDList: undefined}`. */
  constructor(readonly target: Target, readonly userIDList: string[] | undefined | null) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const ids = this.userIDList ? this.target.ids(m, this.userIDList) : this.userIDList;
    const expected = m.unsubscribe(device, ids ?? undefined);
    const client = r.clients[device]!;
    await both(m, r, this.toString(), expected, () =>
      data(
        ids === undefined ? client.unsubscribeUserStatus() : client.unsubscribeUserStatus({ userIDList: ids ?? undefined }),
      ),
    );
  }
  toString = () => `unsubscribe(${this.target}, ${this.userIDList === undefined ? '' : JSON.stringify({ userIDList: this.userIDList ?? undefined })})`;
}
