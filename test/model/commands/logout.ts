// DEV-1 logout: from any logged-in device, connected or not; 2024 when not logged in.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, data, type ModelCommand } from './base';

export class LogoutCommand implements ModelCommand {
  constructor(readonly target: Target) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const expected = m.logout(device);
    await both(m, r, this.toString(), expected, () => data(r.clients[device]!.logout()));
  }
  toString = () => `logout(${this.target})`;
}
