// DEV-1 login, DEV-4 kicks, ST-8, and the login decisions: repeat login, another user (6017), unregistered (70107).
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class LoginCommand implements ModelCommand {
  constructor(readonly target: Target, readonly userID: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const expected = m.login(device, this.userID);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.login({ userID: this.userID })));
  }
  toString = () => `login(${this.target}, ${this.userID})`;
}
