// What the in-process and the remote client share: their event handlers (on/off), CL-3's own status kept
// in step with what they hear, CL-2's self-only answer, and the checks of the device lifecycle calls.
import { invalidParameter } from '../errors';
import { describe } from '../engine/validate';
import { EVENT, type ClientEvent, type EventName } from '../events';
import type { Failure, UserStatus } from '../types';
import { Emitter, callEach } from './emitter';
import { SelfStatus, isSelfOnly } from './self';
import type { ClientEventHandler } from './types';

const NONE: readonly ClientEventHandler[] = [];

export abstract class ClientBase {
  // What every notification reads (a fan-out hands one to each recipient client), kept in fields of the
  // client itself: at 10k clients and more each separate object a notification reads is a cache miss, and
  // these were three (the Emitter, its handler array, the SelfStatus). The Emitter and SelfStatus keep the
  // whole state and tell these copies each change. `statusHandler` is the only handler when there is one.
  private statusHandler: ClientEventHandler | null = null;
  private statusHandlers: readonly ClientEventHandler[] = NONE;
  private selfID: string | null = null;
  protected readonly events = new Emitter((list) => {
    this.statusHandlers = list;
    this.statusHandler = list.length === 1 ? (list[0] as ClientEventHandler) : null;
  });
  protected readonly self = new SelfStatus((id) => (this.selfID = id));

  on<N extends EventName>(event: N, handler: ClientEventHandler<N>): void {
    this.events.on(event, handler);
  }

  off<N extends EventName>(event: N, handler: ClientEventHandler<N>): void {
    this.events.off(event, handler);
  }

  /** An event for the app: statuses of its own user keep CL-3's copy current, a kick forgets it. */
  protected hear(event: ClientEvent): void {
    if (event.name === EVENT.USER_STATUS_UPDATED) {
      const self = this.selfID;
      if (self !== null) {
        const data = event.data;
        for (let i = 0; i < data.length; i++) if ((data[i] as UserStatus).userID === self) this.self.take(data[i] as UserStatus);
      }
      const one = this.statusHandler;
      if (one === null) callEach(this.statusHandlers, event);
      else {
        try {
          one(event);
        } catch {
          // The app's handler failed: its problem, not the engine's nor the other recipients'.
        }
      }
      return;
    }
    if (event.name === EVENT.KICKED_OUT) this.self.forget();
    this.events.emit(event);
  }

  /** CL-2: the answer to a query of the caller alone, from the client's own state; null for any other query. */
  protected selfOnly(options: unknown, loggedIn: boolean): { data: { successUserList: UserStatus[]; failureUserList: Failure[] } } | null {
    const list = (options as { userIDList?: unknown } | null | undefined)?.userIDList;
    if (!loggedIn || !isSelfOnly(list, this.self.userID)) return null;
    return { data: { successUserList: [this.self.get()], failureUserList: [] } };
  }
}

/** DEV-1: how a device loses its link. */
export function checkDisconnect(how: unknown): 'link_closed' | 'network_lost' {
  if (how !== 'link_closed' && how !== 'network_lost') {
    throw invalidParameter('how', `expected 'link_closed' or 'network_lost', got ${describe(how)}`);
  }
  return how;
}
