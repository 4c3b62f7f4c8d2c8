// What the conformance suite runs against: a Target gives admin set-up, new client devices, UserSigs and
// (where it can) control of time and of the server's sockets. Capabilities say what a target can do; a test
// that needs one the target lacks is skipped with that reason, never failed (as socket.io-redis-adapter
// runs one contract suite against every adapter).
import type { Client } from '../client/types';
import { EVENT, type ClientEvent } from '../events';
import type { ConfigChange, Engine, Platform, UserStatus } from '../types';

export interface AdminOps {
  register(userIDs: string[]): Promise<void>;
  addFriends(userID: string, friendIDs: string[]): Promise<void>;
  removeFriends(userID: string, friendIDs: string[]): Promise<void>;
  /** GATE-1: names only what it changes. */
  configure(change: ConfigChange): Promise<void>;
  /** EXT-9, reduced to what every implementation can say. */
  queryStatus(userIDs: string[]): Promise<Array<{ userID: string; statusType: number; customStatus: string }>>;
}

/**
 * What a target can do. Each test names the capabilities it needs; a missing one skips the test with the
 * reason the target gives (or a default one).
 */
export interface Capabilities {
  /** Edition, switches and limits can be changed at run time through `admin.configure` (GATE-1, LIM-2). */
  configure: boolean;
  /** `advance(ms)` moves the server's time (heartbeat timeouts, rate windows, delays). */
  timeControl: boolean;
  /** `dropConnections` makes the server cut a user's sockets. */
  serverDrop: boolean;
  /** Clients can be native devices (android, ios, ...): a web SDK cannot. */
  nativePlatforms: boolean;
  /** Statuses carry `version` and `reason`, rate errors `retryAfterMs` (EXT-1, EXT-2, EXT-6). */
  extensionFields: boolean;
}
export type Capability = keyof Capabilities;

export const CAPABILITY_NAMES: Record<Capability, string> = {
  configure: 'configurable settings',
  timeControl: 'time control',
  serverDrop: 'server-side drop',
  nativePlatforms: 'native platforms',
  extensionFields: 'versions and reasons',
};

/** Older name of the target's self-description (kept so that existing targets keep working). */
export interface TargetTraits {
  /** Same as capabilities.extensionFields. Default true. */
  extensionFields?: boolean;
  /** The code a kicked-out device's calls get (the Web SDK answers them itself with 3002). Default 2024. */
  codeAfterKick?: number;
}

export interface Target {
  readonly name: string;
  /** Missing entries count as present (true), except where `missing` says why not. */
  readonly capabilities?: Partial<Capabilities>;
  /** Why a capability is missing, shown with each skipped test. */
  readonly missing?: Partial<Record<Capability, string>>;
  readonly traits?: TargetTraits;
  readonly admin: AdminOps;
  /** A new device, not logged in. */
  client(platform?: Platform): Client;
  /** What to log in as `userID` with (a real UserSig where the target checks them). */
  userSig(userID: string): string;
  /** Lets `ms` of time pass for the engine and every client (timers, heartbeats, backoff); then settles. */
  advance(ms: number): Promise<void>;
  /** Resolves once everything sent so far has reached every client of this target. */
  settle(): Promise<void>;
  /** How much later than its timeout a heartbeat-driven drop may land (0 in process). */
  readonly linkSlackMs: number;
  /** The server drops the sockets of `userID`'s devices; resolves once each is back (connected and resumed). */
  dropConnections(userID: string, clients: Client[]): Promise<void>;
  /** A fresh namespace: the suite's user ids get a prefix so that tests on one server do not meet. */
  prefix(): string;
  /** Resets the app-wide settings to the defaults with userStatus on, for the next test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export type TargetFactory = () => Promise<Target>;

/** The capabilities a target has, with its traits folded in. */
export function capabilitiesOf(target: Pick<Target, 'capabilities' | 'traits'>): Capabilities {
  const c = target.capabilities ?? {};
  return {
    configure: c.configure !== false,
    timeControl: c.timeControl !== false,
    serverDrop: c.serverDrop !== false,
    nativePlatforms: c.nativePlatforms !== false,
    extensionFields: c.extensionFields !== false && target.traits?.extensionFields !== false,
  };
}

/** A client that records what it hears. */
export interface Device {
  client: Client;
  userID: string;
  heard: UserStatus[];
  events: ClientEvent[];
  about(userID: string): Array<[number, string]>;
  clear(): void;
}

export function record(client: Client, userID: string): Device {
  const d: Device = {
    client,
    userID,
    heard: [],
    events: [],
    about: (id) => d.heard.filter((s) => s.userID === id).map((s) => [s.statusType, s.customStatus]),
    clear: () => {
      d.heard.length = 0;
      d.events.length = 0;
    },
  };
  for (const name of Object.values(EVENT)) {
    client.on(name, (e) => {
      d.events.push(e);
      if (e.name === EVENT.USER_STATUS_UPDATED) d.heard.push(...e.data);
    });
  }
  return d;
}

/** Keeps a target's set of live clients in step: the client joins now and leaves when destroyed. */
export function tracked<C extends Client>(clients: Set<C>, c: C): C {
  clients.add(c);
  const destroy = c.destroy.bind(c);
  c.destroy = async () => {
    clients.delete(c);
    await destroy();
  };
  return c;
}

/** The admin operations of a target whose engine is in this process. */
export function engineAdmin(engine: Engine): AdminOps {
  return {
    register: (ids) => engine.registerUsers(ids),
    addFriends: (u, ids) => engine.addFriends(u, ids),
    removeFriends: (u, ids) => engine.removeFriends(u, ids),
    configure: (c) => engine.configure(c),
    queryStatus: (ids) => engine.queryStatus(ids),
  };
}
