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

/**
 * A frame made once and written as it is (one change's push to all its recipients): the WebSocket frame's
 * bytes, and its payload for a socket that ws must frame itself.
 */
export class Framed {
  constructor(
    readonly frame: Buffer,
    readonly payload: Buffer,
    readonly binary: boolean,
  ) {}
}

/**
 * A server's unmasked, unfragmented, uncompressed WebSocket frame of `data` (RFC 6455 5.2), byte for byte
 * what ws makes, as one buffer: written as one chunk instead of ws's header and payload, two allocations
 * and a writev of two for every frame.
 */
export function wsFrame(data: string | Buffer, binary: boolean): Buffer {
  const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x80 | (binary ? 2 : 1);
  if (head === 2) out[1] = n;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  if (typeof data === 'string') out.write(data, head, 'utf8');
  else data.copy(out, head);
  return out;
}

interface WsInternals {
  _isServer?: boolean;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: number };
  _socket?: { write(b: Buffer): boolean; writable?: boolean };
}

/**
 * Writes a whole frame to the socket under ws when ws would write it the same way: a server socket with no
 * compression and nothing queued in its sender (ws queues only while compressing or reading a Blob, which
 * these sockets never do). False when ws must send it (the caller then calls ws.send).
 */
export function writeFrame(ws: WebSocket, frame: Buffer): boolean {
  const w = ws as unknown as WsInternals;
  const tcp = w._socket;
  if (!w._isServer || w._sender?._state !== 0 || !tcp || tcp.writable === false) return false;
  for (const _ in w._extensions) return false; // an extension (permessage-deflate) frames differently
  tcp.write(frame);
  return true;
}
