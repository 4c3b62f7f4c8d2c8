// What the behavioural suite runs against (as socket.io-redis-adapter runs one suite against every adapter):
// a Target gives the admin operations, new client devices, UserSigs and control of time. Local: an engine in
// this process on a SimulatedClock. Remote: the real server process, driven over REST and the client
// protocol. A third target (the real tim-js-sdk through the gateway) implements the same interface with an
// adapter that makes a TIM instance look like a Client.
import type { Client } from '../../src/client/types';
import { EVENT, type ClientEvent, type ConfigChange, type Engine, type Platform, type UserStatus } from '../../src/index';

export interface AdminOps {
  register(userIDs: string[]): Promise<void>;
  addFriends(userID: string, friendIDs: string[]): Promise<void>;
  removeFriends(userID: string, friendIDs: string[]): Promise<void>;
  /** GATE-1: names only what it changes. */
  configure(change: ConfigChange): Promise<void>;
  /** EXT-9, reduced to what every target can say. */
  queryStatus(userIDs: string[]): Promise<Array<{ userID: string; statusType: number; customStatus: string }>>;
}

/** What a target's client can show an app; the suite asks only for what it can see. */
export interface TargetTraits {
  /** Errors carry retryAfterMs, statuses carry version and reason (EXT-1, EXT-2, EXT-6). Default true. */
  extensionFields?: boolean;
  /** The code a kicked-out device's calls get (the Web SDK answers them itself with 3002). Default 2024. */
  codeAfterKick?: number;
}

export interface Target {
  readonly name: string;
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
  /** How much later than its timeout a heartbeat-driven drop may land (0 in process: the link goes silent at once). */
  readonly linkSlackMs: number;
  /**
   * The server drops the sockets of `userID`'s devices and they come back by themselves; resolves once each is
   * back (connected and resumed). In process, where there is no socket, the same as disconnect() + reconnect().
   */
  dropConnections(userID: string, clients: Client[]): Promise<void>;
  /** A fresh namespace: the suite's names get a prefix so that tests on one server do not meet. */
  prefix(): string;
  /** Resets the app-wide settings to the engine defaults with userStatus on, for the next test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export type TargetFactory = () => Promise<Target>;

/** A client that records what it hears (as test/engine/harness.ts's devices do). */
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
