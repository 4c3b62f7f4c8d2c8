// Our protocol's push frame of a change, made once for all its recipients: the engine hands one event object
// to each of them in turn, so the last one made is kept, as the WebSocket frame's bytes that the link writes
// to each socket as they are (src/server/link/socket.ts).
import type { ClientEvent } from '../../events';
import type { ServerFrame } from '../../protocol/messages';
import { Framed, wsFrame } from '../link/socket';

export class PushFrames {
  private event: ClientEvent | null = null;
  private seq = -1;
  private last: Framed | null = null;

  /** The frame of `event` at `seq` (the encoding may throw: nothing is kept then). */
  frame(event: ClientEvent, seq: number): Framed {
    if (this.last !== null && this.event === event && this.seq === seq) return this.last;
    const bytes = Buffer.from(JSON.stringify({ t: 'push', seq, event } satisfies ServerFrame), 'utf8');
    const frame = new Framed(wsFrame(bytes, false), bytes, false);
    this.event = event;
    this.seq = seq;
    this.last = frame;
    return frame;
  }
}
