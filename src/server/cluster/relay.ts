// Relaying a client to the node that owns its user (issue 13, "any node serves any client"): the node a
// client reached learns the user from its login (after checking the UserSig itself), opens a WebSocket to
// the owner's advertised address with a relay token, replays the frames it holds, and from then on pipes
// frames both ways, unread and in order. The owner runs its normal front-end on that socket, so the hub
// and the gateway behave the same wherever a client connects. Bounded like any socket: frames waiting for
// the upstream to open, the upstream's unsent bytes and its frame size; the client side is the client's
// own SocketLink (send budgets, slow-consumer cut).
import WebSocket from 'ws';
import type { SocketLink } from '../link/lifecycle';
import { RELAY_HEADER } from './relayAuth';

/** The close code a client hears when its user's owner changed or went away: reconnect (and resume, EXT-2). */
export const CLOSE_MOVED = 1012;

export interface RelayLogger {
  debug(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

/** What every relay of a node shares. */
export interface RelayContext {
  /** The advertised ws:// base URL of a node, or null when it never registered. */
  lookup(nodeId: string): Promise<string | null>;
  /** Drops a cached address that failed to connect. */
  forget?(nodeId: string): void;
  /** A fresh relay token of this node, for node `to` (good once: src/server/cluster/relayAuth.ts). */
  token(to: string): string;
  log: RelayLogger;
  /** The upstream's largest frame (the owner's own limit is the same). */
  maxPayloadBytes: number;
  /** The upstream's unsent bytes past this: the client is too fast for the owner; both are cut. */
  maxBufferedBytes: number;
  /** Frames held while the upstream opens; more is a client that does not wait for its login's answer. */
  maxPendingFrames: number;
  /** How long the upstream's opening may take, the owner's address lookup included (real time: a socket handshake). */
  connectTimeoutMs: number;
  /** Counted per relayed frame and per opened relay. */
  onFrame?(direction: 'up' | 'down'): void;
}

export interface RelayOptions {
  /** The owner node, and the path and query to open there (`/ws?v=1&platform=web&deviceId=..`). */
  node: string;
  path: string;
  /** The user the login proved (for logs and the owner checks). */
  userID: string;
  client: SocketLink;
  /** Remote address of the client, passed on for the owner's logs. */
  remote: string;
  /** Frames the owner sends first that the client already had from this node (the hub's hello). */
  skipFirst: number;
  /** The relay ended (upstream closed, failed or cut): the front-end closes the client with this. */
  onEnd(code: number, reason: string): void;
}

const OPEN = WebSocket.OPEN;

/** Close codes a client may be sent as they are; anything else (1005, 1006, 1015, ...) becomes CLOSE_MOVED. */
const passable = (code: number): boolean => code === 1000 || code === 1001 || code === 1008 || code === 1009 || code === 1012 || (code >= 4000 && code <= 4999);

export class Relay {
  readonly node: string;
  readonly userID: string;
  private ws: WebSocket | null = null;
  private pending: Array<{ data: Buffer; binary: boolean }> = [];
  private ended = false;
  private skip: number;
  /** Real time, like the handshake it bounds: a lookup (Redis) or an owner that never answers ends the relay. */
  private opening: ReturnType<typeof setTimeout> | null;

  constructor(
    private readonly cx: RelayContext,
    private readonly o: RelayOptions,
  ) {
    this.node = o.node;
    this.userID = o.userID;
    this.skip = o.skipFirst;
    this.opening = setTimeout(() => this.end(CLOSE_MOVED, `the relay to node ${o.node} did not open within connectTimeoutMs = ${cx.connectTimeoutMs} ms: reconnect`), cx.connectTimeoutMs);
    this.opening.unref?.();
    void this.open();
  }

  private async open(): Promise<void> {
    let base: string | null;
    try {
      base = await this.cx.lookup(this.o.node);
    } catch (e) {
      return this.end(CLOSE_MOVED, `cannot find node ${this.o.node}: ${(e as Error).message}`);
    }
    if (this.ended) return;
    if (!base) return this.end(CLOSE_MOVED, `node ${this.o.node} has no registered address`);
    const url = new URL(this.o.path, base.endsWith('/') ? base : `${base}/`).toString();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        headers: { [RELAY_HEADER]: this.cx.token(this.o.node), 'x-status-engine-client': this.o.remote },
        maxPayload: this.cx.maxPayloadBytes,
        perMessageDeflate: false,
        handshakeTimeout: this.cx.connectTimeoutMs,
      });
    } catch (e) {
      return this.end(CLOSE_MOVED, `cannot open a relay to ${this.o.node}: ${(e as Error).message}`);
    }
    this.ws = ws;
    ws.on('error', (err) => {
      this.cx.log.debug({ err, node: this.o.node }, 'relay upstream error');
      if (ws.readyState !== OPEN) this.cx.forget?.(this.o.node);
    });
    ws.on('open', () => {
      if (this.ended) return ws.close(1000, 'client gone');
      this.stopOpening();
      const held = this.pending;
      this.pending = [];
      for (const f of held) this.up(f.data, f.binary);
    });
    ws.on('message', (data, isBinary) => {
      if (this.ended) return;
      if (this.skip > 0) {
        this.skip--;
        return;
      }
      this.cx.onFrame?.('down');
      const buf = data as Buffer;
      this.o.client.send(() => (isBinary ? buf : buf.toString('utf8')), isBinary);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.end(CLOSE_MOVED, `node ${this.o.node} refused the relay (HTTP ${res.statusCode})`);
      ws.terminate();
    });
    ws.on('close', (code, reason) => {
      const why = reason.toString('utf8');
      this.end(passable(code) ? code : CLOSE_MOVED, passable(code) ? why : `the owner node ${this.o.node} went away (${code}${why ? ` ${why}` : ''}): reconnect`);
    });
  }

  /** A client frame for the owner, in order: held until the upstream is open. */
  send(data: Buffer, binary: boolean): void {
    if (this.ended) return;
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) {
      if (this.pending.length >= this.cx.maxPendingFrames) return this.end(1008, `too many frames (${this.cx.maxPendingFrames}) before the relay to ${this.o.node} opened`);
      this.pending.push({ data, binary });
      return;
    }
    this.up(data, binary);
  }

  private up(data: Buffer, binary: boolean): void {
    const ws = this.ws!;
    if (ws.bufferedAmount > this.cx.maxBufferedBytes) {
      return this.end(1008, `the relay to ${this.o.node} is over the limit maxBufferedBytes = ${this.cx.maxBufferedBytes} unsent`);
    }
    this.cx.onFrame?.('up');
    ws.send(binary ? data : data.toString('utf8'), { binary });
  }

  /** The client went away (or the front-end closes it): the upstream closes too. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopOpening();
    this.pending = [];
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === OPEN) ws.close(1000, 'client closed');
    else ws.terminate();
  }

  private stopOpening(): void {
    if (this.opening !== null) clearTimeout(this.opening);
    this.opening = null;
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.close();
    this.cx.log.debug({ node: this.o.node, userID: this.o.userID, code, reason }, 'relay ended');
    this.o.onEnd(code, reason);
  }
}
