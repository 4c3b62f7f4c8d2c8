// Event handlers of a client (`on`/`off`), shared by the in-process and the remote client. A throwing
// handler does not stop the others.
import { EVENT, type ClientEvent } from '../events';
import { invalidParameter } from '../errors';
import type { ClientEventHandler } from './types';

export class Emitter {
  /** Copy-on-write: on/off make a new array, so emit walks one without copying (a handler may call off). */
  private readonly handlers = new Map<string, readonly ClientEventHandler[]>();

  /**
   * `onStatusHandlers` is told each new list of status-update handlers: a fan-out calls them for every
   * recipient client, and the client keeps them in its own fields (src/client/base.ts says why).
   */
  constructor(private readonly onStatusHandlers?: (list: readonly ClientEventHandler[]) => void) {}

  on(event: unknown, handler: unknown): void {
    if (typeof event !== 'string' || event.length === 0) throw invalidParameter('event', 'expected an event name string');
    if (typeof handler !== 'function') throw invalidParameter('handler', 'expected a function');
    const list = this.handlers.get(event) ?? [];
    if (!list.includes(handler as ClientEventHandler)) this.set(event, [...list, handler as ClientEventHandler]);
  }

  off(event: unknown, handler: unknown): void {
    if (typeof event !== 'string') return;
    const list = this.handlers.get(event);
    if (list) this.set(event, list.filter((h) => h !== handler));
  }

  private set(event: string, list: readonly ClientEventHandler[]): void {
    this.handlers.set(event, list);
    if (event === EVENT.USER_STATUS_UPDATED) this.onStatusHandlers?.(list);
  }

  emit(event: ClientEvent): void {
    const list = this.handlers.get(event.name);
    if (list) callEach(list, event);
  }
}

/** Calls each handler with the event; one that throws is the app's problem and does not stop the rest. */
export function callEach(list: readonly ClientEventHandler[], event: ClientEvent): void {
  for (let i = 0; i < list.length; i++) {
    try {
      (list[i] as ClientEventHandler)(event);
    } catch {
      // The app's handler failed; the other handlers still run.
    }
  }
}
