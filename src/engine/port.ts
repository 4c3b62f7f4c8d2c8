// The one port every front-end talks to (the in-process client, the hub, the Web SDK gateway, REST, the
// server): calls, device sessions as read-only handles, admin, and subscriptions to what happens. The
// engine made by createEngine implements it; front-ends hold only protocol mapping and never compare
// machine state ids or read the store.
import type { AccessContext } from '../../machines/access';
import type { Limits, Platform } from '../../machines/spec';
import type { Clock } from '../clock';
import type { Command, Failure, JournalEntry, StatusTransition, UserStatus } from '../records';
import type { AdminStatus, EngineState, JournalInfo } from '../types';
import type { LinkState, DeviceSink } from './session';

export type { DeviceSink, LinkState };

/** A device session as a front-end sees it: read-only; only the engine changes it. */
export interface DeviceHandle {
  readonly deviceId: string;
  readonly platform: Platform;
  /** The user it is logged in as, or was until a drop (a dropped web device logs in again on reconnect). */
  readonly userID: string | null;
  /** EXT-2: the seq up to which it has heard everything addressed to it. */
  readonly lastSeq: number;
  readonly loggedIn: boolean;
  readonly connected: boolean;
  /** Deliveries reach it: logged in, connected, link live. */
  readonly receiving: boolean;
  /** The link: heartbeats flowing, quiet (its heartbeat timeout running), or closed; null before a login. */
  readonly linkState: LinkState | null;
}

/** What a front-end reports of a device's link. A closed link comes back through `reconnect`. */
export type LinkReport = { type: 'LINK.SILENT' } | { type: 'LINK.HEARTBEAT' } | { type: 'LINK.CLOSED' };

/** What a resuming client says it holds (EXT-2): the last seq it heard, and/or the versions per user. */
export interface ResumePoint {
  lastSeq?: number;
  versions?: Record<string, number>;
}

/** What an operator's page shows of one user beyond queryStatus. */
export interface UserDetail {
  statusState: string;
  visibility: 'everyone' | 'friends' | 'nobody';
  subscriptionsState: string | null;
  subscriptions: string[];
  subscribers: string[];
  friends: string[];
}

export interface EnginePort {
  /** The engine's clock: front-ends time their sockets on it, so tests drive everything with one clock. */
  readonly clock: Clock;
  readonly limits: Readonly<Limits>;
  /** EXT-2: the engine's own sequence (per engine: several engines run side by side). */
  readonly currentSeq: number;

  // Device sessions.
  openSession(platform: Platform, sink: DeviceSink, deviceId?: string): DeviceHandle;
  closeSession(s: DeviceHandle): void;
  login(s: DeviceHandle, userID: unknown): { repeatLogin: boolean; status: UserStatus };
  logout(s: DeviceHandle): void;
  /** A device that was logged in before comes back as `userID`, already authenticated by the caller. */
  adopt(s: DeviceHandle, userID: unknown, held?: ResumePoint): void;
  reconnect(s: DeviceHandle, held?: ResumePoint): void;
  linkEvent(s: DeviceHandle, event: LinkReport): void;
  background(s: DeviceHandle): void;
  foreground(s: DeviceHandle): void;

  // The calls of a logged-in device (CL-1, EXT-5).
  setSelfStatus(s: DeviceHandle, options: unknown): UserStatus;
  getUserStatus(s: DeviceHandle, options: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] };
  subscribe(s: DeviceHandle, options: unknown): { failureUserList: Failure[] };
  unsubscribe(s: DeviceHandle, options: unknown): { failureUserList: Failure[] };
  setVisibility(s: DeviceHandle, visibility: unknown): UserStatus;
  /** A user's status as `viewer` may see it (EXT-5, issue 17); `null`: the admin's view. */
  statusOf(userID: string, viewer: string | null): UserStatus;

  // Admin.
  registerUsers(userIDs: unknown): void;
  hasUser(userID: string): boolean;
  /** `both`: the reverse edges too, in the same command (REST's Add_Type_Both). */
  changeFriends(userID: unknown, friendIDs: unknown, add: boolean, both?: boolean): void;
  configure(change: unknown): void;
  settings(): AccessContext;
  queryStatus(userIDs: unknown, opts: unknown): AdminStatus[];
  explain(userID: unknown): StatusTransition[];
  /** The dashboard's read of one user (70107 if unknown); state names are the machines' ids. */
  userDetail(userID: unknown): UserDetail;
  userCount(): number;
  onlineUserIDs(): string[];
  journal(opts?: unknown): JournalEntry[];
  /** Where the kept journal starts and ends, and its replay start's seq (compaction, issue 9). */
  journalInfo?(): JournalInfo;
  exportState(): EngineState;
  close(): void;
  /** Resolves with `value` once every command so far is durable: front-ends acknowledge calls through it. */
  acknowledge<T>(value: T): Promise<T>;
  /** Whether acknowledging waits (an asynchronous durable store); false: a call is durable when it returns. */
  readonly acknowledgesLater: boolean;

  // What happens.
  onTransition(listener: (entry: StatusTransition, command: Command | undefined) => void): () => void;
  onSettingsChange(listener: (settings: AccessContext) => void): () => void;
}

/**
 * What an operator's page reads beyond the port (the inspection side): the link of a device session this
 * engine holds, whoever's handle it is. null: no session here holds that device.
 */
export interface EngineInspection {
  linkStateOf(deviceId: string): LinkState | null;
}
