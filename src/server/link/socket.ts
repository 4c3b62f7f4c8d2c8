// What the socket link (./lifecycle.ts) needs of a ws WebSocket: its TCP socket, to cork a turn's frames,
// and shared listeners that find their link on the socket itself (a closure per listener per socket is what
// a held connection would cost, three times over).
import type WebSocket from 'ws';
import type { SocketLink } from './lifecycle';

/** The TCP socket under a ws WebSocket (ws keeps it as `_socket`), when it can be corked. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export function tcpOf(ws: WebSocket): Corkable | null {
  const s = (ws as unknown as { _socket?: Partial<Corkable> })._socket;
  return s && typeof s.cork === 'function' && typeof s.uncork === 'function' ? (s as Corkable) : null;
}

/** Each front-end socket's link, also for the upgrade's per-address count (server.ts): did it log in? */
const LINK = Symbol('status-engine.link');
type Linked = WebSocket & { [LINK]?: SocketLink };

export function setLink(ws: WebSocket, link: SocketLink): void {
  (ws as Linked)[LINK] = link;
}

export function linkOf(ws: WebSocket): SocketLink | undefined {
  return (ws as Linked)[LINK];
}

export function heardMessage(this: Linked, data: unknown, isBinary: boolean): void {
  this[LINK]?.onMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary);
}

export function heardClose(this: Linked, code: number): void {
  this[LINK]?.onClosed(code);
}

export function heardError(this: Linked, err: Error): void {
  const link = this[LINK];
  link?.group.o.log.debug({ err, remote: link.remote }, 'socket error');
}

/** A push's payload made once (one change's push to all its recipients), sent to each socket as it is. */
export class Framed {
  constructor(
    readonly payload: Buffer,
    readonly binary: boolean,
  ) {}
}
