// The admin's friend lists (directional: userID hears its friends, NTF-2 c).
import type { Model } from '../model';
import type { Real } from '../real';
import { both, type ModelCommand } from './base';

export class FriendsCommand implements ModelCommand {
  constructor(readonly userID: string, readonly friendIDs: string[], readonly add: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const expected = m.changeFriends(this.userID, this.friendIDs, this.add);
    const ids = [...this.friendIDs];
    await both(m, r, this.toString(), expected, () => (this.add ? r.engine.addFriends(this.userID, ids) : r.engine.removeFriends(this.userID, ids)));
  }
  toString = () => `${this.add ? 'addFriends' : 'removeFriends'}(${this.userID}, ${JSON.stringify(this.friendIDs)})`;
}
