// DEV-3: a native app comes back to the foreground, then EXT-2 resume.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, type ModelCommand } from './base';

export class ForegroundCommand implements ModelCommand {
  constructor(readonly target: Target) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    m.foreground(device);
    await both(m, r, this.toString(), { ok: undefined }, () => r.clients[device]!.foreground());
  }
  toString = () => `foreground(${this.target})`;
}
