// What the engine sends a Web SDK device, in the SDK's terms: status pushes that the SDK acknowledges (the
// EXT-2 resume point) and the multi-device kick (DEV-4). Events with no SDK counterpart are dropped.
import { EVENT, type ClientEvent } from '../../events';
import { CMD, EVENT_USER_STATUS, KICK_TYPE_MULTIPLE_DEVICE, kickOutBody, wireStatus } from '../../protocol/tim/wire';
import type { DeviceSocket, GatewayContext } from './device';

/** A push body already in JSON: the same bytes for every recipient of a change (only the head differs). */
export class EncodedBody {
  constructor(readonly json: string) {}
}

/** The last status push's body: the engine hands one event object to every recipient of a change. */
let last: { event: ClientEvent | null; seq: number; body: EncodedBody } = { event: null, seq: -1, body: new EncodedBody('{}') };

function statusBody(event: ClientEvent & { name: typeof EVENT.USER_STATUS_UPDATED }, seq: number): EncodedBody {
  if (last.event === event && last.seq === seq) return last.body;
  const body = new EncodedBody(
    JSON.stringify({
      EventArray: [{ Event: EVENT_USER_STATUS, UserStatusList: event.data.map(wireStatus) }],
      // The SDK answers openim.ws_msg_push_ack with this SessionData: the resume point (EXT-2).
      NeedAck: 1,
      SessionData: String(seq),
    }),
  );
  last = { event, seq, body };
  return body;
}

export function deliver(gw: GatewayContext, conn: DeviceSocket, event: ClientEvent, seq: number): void {
  switch (event.name) {
    case EVENT.USER_STATUS_UPDATED: {
      const state = conn.device?.data;
      if (state) state.pushedSeq = Math.max(state.pushedSeq, seq);
      conn.push(CMD.PUSH_MSG, statusBody(event, seq));
      return;
    }
    case EVENT.KICKED_OUT: {
      // DEV-4: the SDK's own multi-device kick: it logs out and emits KICKED_OUT {type: 'multipleDevice'}.
      conn.push(CMD.PUSH_FORCE_OFFLINE, kickOutBody(KICK_TYPE_MULTIPLE_DEVICE));
      const key = conn.device;
      if (key) {
        gw.keys.revoke(key);
        const s = key.data.session;
        key.data.session = null;
        key.data.conn = null;
        conn.device = null;
        // Not from inside the engine's delivery loop; guarded, as nothing may throw from a microtask.
        if (s) queueMicrotask(() => gw.links.guard('closing a kicked session', () => gw.core.closeSession(s)));
      }
      return;
    }
    default:
      // SUBSCRIPTION_ENDED (EXT-4) has no counterpart in the SDK.
      gw.log.debug({ event: event.name }, 'tim gateway: event with no SDK counterpart dropped');
  }
}
