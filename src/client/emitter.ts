// Event handlers of a client (`on`/`off`), shared by the in-process and the remote client. A throwing
// handler does not stop the others.
import type { ClientEvent } from '../events';
import { invalidParameter } from '../errors';
import type { ClientEventHandler } from './types';

export class Emitter {
  private readonly handlers = new Map<string, Set<ClientEventHandler>>();

  on(event: unknown, handler: unknown): void {
    if (typeof event !== 'string' || event.length === 0) throw invalidParameter('event', 'expected an event name string');
    if (typeof handler !== 'function') throw invalidParameter('handler', 'expected a function');
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as ClientEventHandler);
  }

  off(event: unknown, handler: unknown): void {
    if (typeof event !== 'string') return;
    this.handlers.get(event)?.delete(handler as ClientEventHandler);
  }

  emit(event: ClientEvent): void {
    const set = this.handlers.get(event.name);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(event);
      } catch {
        // The app's handler failed; the other handlers still run.
      }
    }
  }
}
