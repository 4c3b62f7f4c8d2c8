// One client socket as the hub keeps it (src/server/hub.ts): its device, its request budget, and the link's
// hooks into the hub as its methods, so that a held connection costs this object and no closures of its own.
import type WebSocket from 'ws';
import type { LinkHooks, SocketLink } from '../link/lifecycle';
import type { RequestBudget } from '../requestBudget';
import type { Conn, Device } from './devices';

/** What a connection calls on its hub. */
export interface ConnHub {
  onFrame(conn: Conn, data: Buffer, isBinary: boolean): void;
  onQuiet(conn: Conn): void;
  onClose(conn: Conn, code: number): void;
  /** The sockets whose device link the hub made silent, for its check. */
  readonly silencedConns: Set<Conn>;
}

/**
 * One client socket as the hub keeps it, and the link's hooks into the hub as its methods: a held
 * connection costs this object, not four closures of its own.
 */
export class HubConn implements Conn, LinkHooks {
  link!: SocketLink;
  device: Device | null = null;
  private quiet = false;
  constructor(
    private readonly hub: ConnHub,
    readonly ws: WebSocket,
    readonly deviceId: string,
    readonly platform: Conn['platform'],
    readonly remote: string,
    readonly budget: RequestBudget,
    readonly viaRelay: boolean,
  ) {}
  /** The hub made its device link silent: the hub's check looks at these sockets only. */
  get silenced(): boolean {
    return this.quiet;
  }
  set silenced(v: boolean) {
    this.quiet = v;
    if (v) this.hub.silencedConns.add(this);
    else this.hub.silencedConns.delete(this);
  }
  onFrame(data: Buffer, isBinary: boolean): void {
    this.hub.onFrame(this, data, isBinary);
  }
  onQuiet(): void {
    this.hub.onQuiet(this);
  }
  /** Proved a UserSig on this socket (its device may since have logged out: it may log in again). */
  isAuthenticated(): boolean {
    return this.device !== null || Boolean(this.relay);
  }
  onClose(code: number): void {
    this.hub.onClose(this, code);
  }
}
export interface HubConn {
  queue?: Conn['queue'];
  running?: boolean;
  relay?: Conn['relay'];
}
