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
import type { Snapshot } from './store/snapshot';
import type { Broker } from './broker/types';
import type { InspectUsers } from './engine/inspect';
import type { Command, ConfigChange, Failure, JournalEntry, StatusTransition, UserStatus } from './records';

export type { Command, ConfigChange, Failure, JournalEntry, Snapshot, StatusTransition, UserStatus };

export type { Clock, Edition, Limits, LimitsChange, Platform, Reason, StatusType, Switches, Visibility };

export interface EngineOptions extends ConfigChange {
  /** Every timer reads this clock. Default: the real one. xstate's SimulatedClock fits. */
  clock?: Clock;
  /** Where state lives. Default: in memory. */
  store?: Store;
  /** How deliveries reach devices. Default: in process. */
  broker?: Broker;
  /**
   * The users this engine owns (engines side by side on one broker, each owning part of the users): it keeps
   * their records and holds their devices, and refuses commands for any other user (75006). Default: all.
   */
  owns?: (userID: string) => boolean;
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
  /**
   * Compaction (issue 9): the engine's whole replayable state now, as a versioned snapshot (more than
   * exportState: the views others were shown, flap records, notices, rate windows, links, timers, the seq);
   * `replay(entries, { snapshot })` goes on from it.
   */
  snapshot(): Promise<Snapshot>;
  /** The snapshot the kept journal replays from (null: the journal is whole from seq 1): `replay(await journal(), { snapshot })`. */
  replayStart(): Promise<Snapshot | null>;
  /** Where the kept journal starts and ends, and the seq of its replay start (null: none, replay from seq 1). */
  journalInfo(): Promise<JournalInfo>;
  close(): Promise<void>;
}

export interface JournalInfo {
  /** The oldest entry kept (lastSeq + 1 when none is). */
  firstSeq: number;
  lastSeq: number;
  /** The seq of the replay start; replay applies the entries after it. */
  snapshotSeq: number | null;
}

/** `replay(entries, options)`: an engine's options (without the settings, which the journal holds), and where to start. */
export type ReplayOptions = Omit<EngineOptions, 'edition' | 'switches' | 'limits'> & {
  /** Start from this snapshot (`engine.replayStart()` or `engine.snapshot()`) and apply the entries after its seq. */
  snapshot?: Snapshot | null;
};

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
