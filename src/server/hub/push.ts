// Our protocol's push frame of a change, made once for all its recipients: the engine hands one event object
// to each of them in turn, so the last one made is kept, as the bytes the link hands to each socket's ws.
import type { ClientEvent } from '../../events';
import type { ServerFrame } from '../../protocol/messages';
import { Framed } from '../link/socket';

export class PushFrames {
  private event: ClientEvent | null = null;
  private seq = -1;
  private last: Framed | null = null;

  /** The frame of `event` at `seq` (the encoding may throw: nothing is kept then). */
  frame(event: ClientEvent, seq: number): Framed {
    if (this.last !== null && this.event === event && this.seq === seq) return this.last;
    const bytes = Buffer.from(JSON.stringify({ t: 'push', seq, event } satisfies ServerFrame), 'utf8');
    const frame = new Framed(bytes, false);
    this.event = event;
    this.seq = seq;
    this.last = frame;
    return frame;
  }
}
