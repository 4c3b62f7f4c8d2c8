// DEV-3: a native app goes to the background (a web client's background() does nothing).
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, type ModelCommand } from './base';

export class BackgroundCommand implements ModelCommand {
  constructor(readonly target: Target) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    m.background(device);
    await both(m, r, this.toString(), { ok: undefined }, () => r.clients[device]!.background());
  }
  toString = () => `background(${this.target})`;
}
