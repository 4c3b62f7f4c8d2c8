// DEV-2/DEV-3: the link closes at once, or the network is lost and the heartbeat timeouts apply.
import type { Model } from '../model';
import type { Real } from '../real';
import type { Target } from './target';
import { both, type ModelCommand } from './base';

export class DisconnectCommand implements ModelCommand {
  constructor(readonly target: Target, readonly how: 'link_closed' | 'network_lost') {}
  check = () => true;
  async run(m: Model, r: Real) {
    const device = this.target.resolve(m);
    m.disconnect(device, this.how);
    await both(m, r, this.toString(), { ok: undefined }, () => r.clients[device]!.disconnect(this.how));
  }
  toString = () => `disconnect(${this.target}, ${this.how})`;
}
