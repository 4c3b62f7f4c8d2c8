// The shapes that cross the layers: what calls return, the commands and the journal, and what a store
// keeps. Imports nothing from src/ (machines' types only), so the store, the broker and the engine all
// depend on it and on nothing of each other's.
import type { AccessContext } from '../machines/access';
import type { FlapContext } from '../machines/flap';
import type { Edition, LimitsChange, Platform, Reason, StatusType } from '../machines/spec';
import type { Switches } from '../machines/access';
import type { SubscriptionsContext } from '../machines/subscriptions';
import type { UserStatusContext, Visibility } from '../machines/userStatus';

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
  /** `reverse`: REST's Add_Type_Both, in the same command: these users list `userID` too (or no longer). */
  | { type: 'friends.add'; userID: string; friendIDs: string[]; reverse?: string[] }
  | { type: 'friends.remove'; userID: string; friendIDs: string[]; reverse?: string[] }
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
  /** `deviceId`: the device that made the call (for the inspector's sequence view; journals before it lack it). */
  | { type: 'status.set'; userID: string; customStatus: string; deviceId?: string }
  /** A query of others: journaled for its rate window (LIM-1), so with its size, not its list. */
  | { type: 'status.query'; userID: string; count: number }
  | { type: 'subscriptions.add'; userID: string; userIDs: string[]; deviceId?: string }
  | { type: 'subscriptions.remove'; userID: string; userIDs: string[] | null; deviceId?: string }
  | { type: 'timer.fire'; key: string }
  /** EXT-7: a change held back from others while a link flapped is released when the grace runs out. */
  | { type: 'flap.release'; userID: string }
  /** Engines side by side: another engine's `userID` made (or dropped) an edge to our `target` (src/engine/shard.ts). */
  | { type: 'edges.mirror'; edge: 'subscription' | 'friend'; userID: string; target: string; added: boolean };

/** The compact record of one machine instance: the id of its active leaf state, and its context. */
export interface RunnerSnapshot<C> {
  readonly value: string;
  readonly context: C;
}

/**
 * EXT-2/EXT-5/EXT-7, issue 17: what one class of viewers (the user's friends, or everyone else) was last
 * shown of a user, and the seq of the command that showed it (resume counts from there).
 */
export interface ShownView {
  statusType: StatusType;
  customStatus: string;
  version: number;
  reason: Reason;
  seq: number;
}
export interface Views {
  friends: ShownView;
  others: ShownView;
}

/**
 * A user's status machine snapshot, the seq of the command that last changed the status (its own devices
 * resume from it), and, when they differ from the status itself, the views others were last shown
 * (a flap held back, a hidden user): see src/engine/rules/views.ts; and while EXT-7 holds a change back,
 * the user's `flap` machine.
 */
export type StatusRecord = RunnerSnapshot<UserStatusContext> & { seq: number; views?: Views; flap?: RunnerSnapshot<FlapContext> };
export type SubscriptionsRecord = RunnerSnapshot<SubscriptionsContext>;

/**
 * A delayed machine event waiting for its time (CS-5 and UNSUB-5 clears, DEV-2/3 heartbeat waits, EXT-7
 * grace); survives a restart. Named as the machine names it: the delay, and the state it belongs to (a key
 * path such as 'unlogined.clearPending'), never the runner's generated ids, so a store outlives a release.
 */
export interface PendingTimer {
  /** `timerKey(machine, owner, delay, deviceId)`: one pending timer per machine instance and delay. */
  key: string;
  due: number;
  machine: 'userStatus' | 'subscriptions' | 'deviceLink' | 'flap';
  /** The user whose machine it is. */
  owner: string;
  /** For a device link: the device. */
  deviceId?: string;
  /** The machine's name for the delay, e.g. 'customStatusClearAfterLogout'. */
  delay: string;
  /** The state whose `after` it is, as a key path below the machine, e.g. 'unlogined.clearPending'. */
  state: string;
}

/** The one key of a durable timer: JSON, so that no userID or deviceId (any string) can make two collide. */
export const timerKey = (machine: PendingTimer['machine'], owner: string, delay: string, deviceId?: string): string =>
  JSON.stringify(deviceId === undefined ? [machine, owner, delay] : [machine, owner, deviceId, delay]);

/** EXT-4: a subscription lifecycle event for a user who was not there to hear it. */
export interface Notice {
  userIDList: string[];
  reason: 'subscriptions_cleared';
}

export type { AccessContext, Edition, Switches, Visibility };
