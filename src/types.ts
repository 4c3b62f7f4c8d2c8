// The public shapes of shared/spec/API.md, and the extensions the engine adds (EXT-*).
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from './clock';
import type { Edition, Limits, LimitsChange, Platform, Reason, StatusType } from '../machines/spec';
import type { Switches } from '../machines/access';
import type { Visibility, userStatusMachine } from '../machines/userStatus';
import type { subscriptionsMachine } from '../machines/subscriptions';
import type { accessMachine } from '../machines/access';
import type { rateWindowMachine } from '../machines/rateWindow';
import type { deviceLinkMachine } from '../machines/deviceLink';
import type { Store } from './store/types';
import type { Broker } from './broker/types';
import type { InspectUsers } from './engine/inspect';

export type { Clock, Edition, Limits, LimitsChange, Platform, Reason, StatusType, Switches, Visibility };

/** What `getUserStatus`, notifications and `setSelfStatus` carry (NTF-1), plus EXT-1 and EXT-2 fields. */
export interface UserStatus {
  userID: string;
  statusType: StatusType;
  customStatus: string;
  /** EXT-2: grows by one with every change of this user's status. */
  version: number;
  /** EXT-1: why the last change happened. */
  reason: Reason;
}

export interface Failure {
  userID: string;
  code: number;
  message: string;
}


/** GATE-1: a change names only what it changes. */
export interface ConfigChange {
  edition?: Edition;
  switches?: Partial<Switches>;
  limits?: LimitsChange;
}


export interface EngineOptions extends ConfigChange {
  /** Every timer reads this clock. Default: the real one. xstate's SimulatedClock fits. */
  clock?: Clock;
  /** Where state lives. Default: in memory. */
  store?: Store;
  /** How deliveries reach devices. Default: in process. */
  broker?: Broker;
  /**
   * An XState inspector (as `createActor(..., { inspect })` takes): in Node `createWebSocketInspector({url}).inspect`
   * of `@statelyai/inspect`, in a browser `createBrowserInspector().inspect`. Given but undefined is an error.
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Inspect only these users: a list, a RegExp, a glob (`'vip-*'`), a `'/regex/'` string or a predicate. Default all. */
  inspectUsers?: InspectUsers;
  /** EXT-3: the journal. In memory it keeps the last `maxEntries` (default 1,000,000); `false` turns it off. */
  journal?: boolean | { maxEntries?: number };
  /**
   * Advanced: run a variant of a machine (same events, emitted events and state names), e.g. made with
   * `userStatusMachine.provide({...})`. For experiments, and for the mutation tests that prove the test
   * suite catches a broken rule.
   */
  machines?: MachineOverrides;
}

export interface MachineOverrides {
  userStatus?: typeof userStatusMachine;
  subscriptions?: typeof subscriptionsMachine;
  access?: typeof accessMachine;
  rateWindow?: typeof rateWindowMachine;
  deviceLink?: typeof deviceLinkMachine;
}

/** EXT-9: an admin's view of one user. */
export interface AdminStatus {
  userID: string;
  statusType: StatusType;
  customStatus: string;
  version: number;
  reason: Reason;
  /** Set when the userID is not registered (code 70107); the status fields are then UNKNOWN/empty. */
  error?: { code: number; message: string };
  /** With `{detail: true}`: each logged-in device. `pushOnline` is a native device that is logged in but not connected. */
  devices?: Array<{ deviceId: string; platform: Platform; connected: boolean; pushOnline: boolean }>;
}

/** EXT-3: one entry of the audit journal. */
export type JournalEntry =
  | { seq: number; at: number; kind: 'command'; by: string; command: Command }
  | {
      seq: number;
      at: number;
      kind: 'transition';
      /** The seq of the command that caused it. */
      cause: number;
      machine: 'userStatus';
      userID: string;
      /** The machine event, e.g. 'DEVICE.LOGIN'. */
      event: string;
      reason: Reason;
      from: string;
      to: string;
      before: { statusType: StatusType; customStatus: string };
      after: { statusType: StatusType; customStatus: string };
      version: number;
      /** Logged-in devices after the step. */
      devices: number;
    }
  | {
      seq: number;
      at: number;
      kind: 'transition';
      cause: number;
      machine: 'subscriptions';
      userID: string;
      reason: Reason;
      from: string;
      to: string;
      added: string[];
      removed: string[];
    };

/** A journaled step of a user's status machine. */
export type StatusTransition = Extract<JournalEntry, { kind: 'transition'; machine: 'userStatus' }>;

/** Everything that changes state is one of these; the journal keeps them and replay re-applies them. */
export type Command =
  | { type: 'users.register'; userIDs: string[] }
  | { type: 'friends.add'; userID: string; friendIDs: string[] }
  | { type: 'friends.remove'; userID: string; friendIDs: string[] }
  | { type: 'config.change'; change: ConfigChange }
  | { type: 'visibility.set'; userID: string; visibility: Visibility }
  | { type: 'device.login'; userID: string; deviceId: string; platform: Platform }
  | { type: 'device.reconnect'; userID: string; deviceId: string; platform: Platform }
  | { type: 'device.logout'; userID: string; deviceId: string }
  | { type: 'device.disconnect'; userID: string; deviceId: string; reason: 'link_closed' | 'heartbeat_timeout' }
  /** DEV-2/3: the device's heartbeats stopped (network lost); its heartbeat timeout starts. */
  | { type: 'device.silent'; userID: string; deviceId: string }
  /** ... and came back before the timeout. */
  | { type: 'device.heard'; userID: string; deviceId: string }
  | { type: 'device.background'; userID: string; deviceId: string }
  | { type: 'device.foreground'; userID: string; deviceId: string }
  | { type: 'status.set'; userID: string; customStatus: string }
  /** A query of others: journaled for its rate window (LIM-1), so with its size, not its list. */
  | { type: 'status.query'; userID: string; count: number }
  | { type: 'subscriptions.add'; userID: string; userIDs: string[] }
  | { type: 'subscriptions.remove'; userID: string; userIDs: string[] | null }
  | { type: 'timer.fire'; key: string }
  /** EXT-7: a change held back from others while a link flapped is released when the grace runs out. */
  | { type: 'flap.release'; userID: string };

/** The admin side of an engine (shared/spec/API.md). */
export interface Engine {
  registerUsers(userIDs: string[]): Promise<void>;
  addFriends(userID: string, friendIDs: string[]): Promise<void>;
  removeFriends(userID: string, friendIDs: string[]): Promise<void>;
  configure(change: ConfigChange): Promise<void>;
  queryStatus(userIDs: string[], opts?: { detail?: boolean }): Promise<AdminStatus[]>;
  /** EXT-3: the transitions of this user's status machine that led to its current status, oldest first. */
  explain(userID: string): Promise<StatusTransition[]>;
  /** EXT-3: the journal from `fromSeq` on (default: all that is kept). */
  journal(opts?: { fromSeq?: number; limit?: number }): Promise<JournalEntry[]>;
  /** The current settings (edition, switches, limits). */
  settings(): Promise<{ edition: Edition; switches: Switches; limits: Limits }>;
  /** A plain copy of all durable state, for comparing engines (replay, restart). */
  exportState(): Promise<EngineState>;
  close(): Promise<void>;
}

export interface EngineState {
  settings: { edition: Edition; switches: Switches; limits: Limits };
  users: Record<
    string,
    {
      statusType: StatusType;
      customStatus: string;
      version: number;
      state: string;
      devices: Array<{ deviceId: string; platform: Platform; connected: boolean }>;
      subscriptions: string[];
      friends: string[];
      visibility: Visibility;
    }
  >;
  timers: Array<{ key: string; due: number }>;
}
