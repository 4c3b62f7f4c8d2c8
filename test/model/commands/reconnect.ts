// DEV-1 reconnect and the EXT-2 resume that follows it.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, type ModelCommand } from './base';

export class ReconnectCommand implements ModelCommand {
  constructor(readonly target: Target) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    const expected = m.reconnect(device);
    await both(m, r, this.toString(), expected, () => r.clients[device]!.reconnect());
  }
  toString = () => `reconnect(${this.target})`;
}
