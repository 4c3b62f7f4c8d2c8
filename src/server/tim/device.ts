// What the Web SDK gateway's pieces share: a device as a session key holds it, the socket view the login and
// delivery code work with, and the gateway context they act through (src/server/timGateway.ts supplies it).
import type { PreparedCall } from '../../cluster/service';
import type { DeviceHandle, EnginePort } from '../../engine/port';
import type { FrontCluster } from '../cluster/front';
import type { ClientEvent } from '../../events';
import type { SessionKey, SessionKeys } from '../../protocol/tim/sessionKeys';
import type { SocketLink, LinkGroup } from '../link/lifecycle';
import type { RequestBudgetLimits } from '../requestBudget';

type LogFn = (obj: unknown, msg?: string) => void;
export interface GatewayLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

/** What the gateway keeps with a session key: the device's engine session and the socket it is on now. */
export interface DeviceState {
  session: DeviceHandle | null;
  conn: DeviceSocket | null;
  /** EXT-2 resume point, kept while no socket holds the device. */
  lastSeq: number;
  /** The seq of the last status push written to the device's socket, and the last one the SDK acknowledged. */
  pushedSeq: number;
  ackedSeq: number;
  /** When its sockets were cut for keeping on over their request budget (src/server/tim/overBudget.ts). */
  cuts: number[];
}

export type Key = SessionKey<DeviceState>;

export const newState = (conn: DeviceSocket | null): DeviceState => ({ session: null, conn, lastSeq: 0, pushedSeq: 0, ackedSeq: 0, cuts: [] });

/**
 * EXT-2 over a socket: what was written is not what arrived. The SDK acknowledges each status push (NeedAck),
 * so the device has heard everything up to its last acknowledged push; if every push was acknowledged, up to
 * what the engine says.
 */
export const resumePoint = (state: DeviceState, engineSeq: number): number => (state.ackedSeq >= state.pushedSeq ? engineSeq : state.ackedSeq);

/** The retrier's key of a device's owed close. */
export const closeKey = (key: Key): string => `tim-close:${key.deviceId}`;

/** What the socket's URL said. */
export interface ConnInfo {
  binary: boolean;
  compress: boolean;
  urlPlatform: string | null;
  urlAppId: string | null;
  remote: string | undefined;
  /** Cluster mode: another node's relay of its SDK (never relayed again). */
  viaRelay?: boolean;
  /** The path and query the socket was opened with (a relay opens the same at the owner). */
  path?: string;
}

/** One SDK socket as login and delivery see it: it holds at most one device at a time. */
export interface DeviceSocket {
  device: Key | null;
  readonly link: SocketLink;
  readonly info: ConnInfo;
  /** Cluster mode: piped to its user's owner node, and where. */
  readonly relaying?: boolean;
  readonly relayTarget?: { node: string; userID: string } | null;
  /** What the engine sends this device, in the SDK's terms. */
  deliver(event: ClientEvent, seq: number): void;
  /** A server push; while a request is being handled it waits so that the reply goes first. */
  push(servcmd: string, body: unknown): void;
}

/** The gateway as its sockets see it. */
export interface GatewayContext {
  readonly core: EnginePort;
  readonly log: GatewayLogger;
  readonly keys: SessionKeys<DeviceState>;
  readonly links: LinkGroup;
  readonly sdkAppId: number;
  readonly helloIntervalSec: number;
  readonly maxFrameBytes: number;
  readonly maxPreLoginFrameBytes: number;
  readonly requestBudget: RequestBudgetLimits;
  /** The engine's clock, as each socket's request budget reads it (one function for all of them). */
  readonly now: () => number;
  readonly wallClock: () => number;
  readonly purchaseBits: string;
  /** Shutting down: a socket's close is not a drop. */
  readonly closed: boolean;
  /** Returns the verified userID, or throws StatusError with the code the SDK's login() rejects with. */
  verifyUserSig(userID: string | undefined, userSig: string | undefined): string;
  forget(conn: DeviceSocket): void;
  /** Cluster mode: the socket's device is let go of here (no word to the port) and the socket sent to reconnect (1012). */
  letGo(conn: DeviceSocket, reason: string): void;
  /** A port whose calls need preparing or acknowledging later: frames of a socket run one at a time. */
  readonly asyncCalls: boolean;
  /** A ClusterPort's prepare (src/cluster/service.ts); absent: every call is synchronous. */
  readonly prepare?: (call: PreparedCall, session: DeviceHandle, arg: unknown) => Promise<void>;
  /** Cluster mode: a client whose user another node owns is relayed there; relays opened so far. */
  readonly cluster?: FrontCluster;
  relayed: number;
  /** A prepare or an acknowledgement not settled in this long answers the call (75007/75002). */
  readonly callDeadlineMs: number;
}
