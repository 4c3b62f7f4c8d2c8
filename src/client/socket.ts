// The remote client's WebSocket: the platform's own where it has one (browsers; Node 22 and later), else
// the `ws` package (Node 20). A bundler for the browser maps `ws` to its stub, which is then never called.
// Both are driven through this one small interface, so the client holds no code for either.
import NodeWebSocket from 'ws';
import type { Clock } from '../clock';

export const CONNECTING = 0;
export const OPEN = 1;

export interface Socket {
  readonly readyState: number;
  send(text: string): void;
  /** The closing handshake. */
  close(code: number, reason: string): void;
  /** Gone at once, no handshake (the platform's socket has no such call: it closes). */
  terminate(): void;
}

export interface SocketEvents {
  message(text: string): void;
  close(code: number, reason: string): void;
  error(message: string): void;
}

/** What the client needs of the standard WebSocket (the DOM's types are not in this package's lib). */
interface StandardSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', fn: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', fn: (e: { message?: string }) => void): void;
  addEventListener(type: 'open', fn: () => void): void;
}
type StandardSocketClass = new (url: string) => StandardSocket;

const standard = (): StandardSocketClass | undefined => (globalThis as { WebSocket?: StandardSocketClass }).WebSocket;

/** Opens a socket to `url`; a handshake not done within `handshakeTimeoutMs` (on `clock`) fails it. */
export function openSocket(url: URL, handshakeTimeoutMs: number, clock: Clock, on: SocketEvents): Socket {
  const Standard = standard();
  if (!Standard) {
    const ws = new NodeWebSocket(url, { perMessageDeflate: false, handshakeTimeout: handshakeTimeoutMs });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) on.message(data.toString('utf8'));
    });
    ws.on('close', (code: number, reason: Buffer) => on.close(code, reason.toString()));
    ws.on('error', (err: Error) => on.error(err.message));
    return ws;
  }
  const ws = new Standard(url.toString());
  const timer = clock.setTimeout(() => {
    if (ws.readyState === CONNECTING) ws.close();
  }, handshakeTimeoutMs);
  ws.addEventListener('open', () => clock.clearTimeout(timer));
  ws.addEventListener('message', (e) => {
    if (typeof e.data === 'string') on.message(e.data);
  });
  ws.addEventListener('close', (e) => {
    clock.clearTimeout(timer);
    on.close(e.code, e.reason);
  });
  ws.addEventListener('error', (e) => on.error(e.message ?? 'socket error'));
  return {
    get readyState() {
      return ws.readyState;
    },
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.close(),
  };
}

/** A random device id, from the platform's crypto (browsers and Node alike). */
export function randomHex(bytes: number): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
