// The seam between a cluster node's engines and its front-ends (issue 13): what `serve --redis` builds on
// one node and hands to the hub, the Web SDK gateway, REST and /healthz. The node side (engine per owned
// shard, Redis-durable acknowledgement, deliveries and reads across nodes) implements it in src/cluster/;
// the server side (sockets, relaying a client to its user's owner node, REST, health) only calls it.
import type { AccessContext } from '../../machines/access';
import type { InspectBridge } from '../engine/inspect';
import type { DeviceHandle, EnginePort, LinkState, UserDetail } from '../engine/port';
import type { JournalEntry, StatusTransition } from '../records';
import type { AdminStatus } from '../types';

/** The port calls that may need facts of users whose shards other nodes own (see `ClusterPort.prepare`). */
export type PreparedCall = 'login' | 'adopt' | 'reconnect' | 'getUserStatus' | 'subscribe' | 'unsubscribe';

/**
 * The port of the shards this node owns. Its calls stay synchronous, as EnginePort's are; two things differ:
 * - a call that reads users of other nodes' shards is preceded by `await prepare(call, session, arg)`, which
 *   fetches those facts from their owners (a call not prepared that needs one fails with a clear code);
 * - a call is acknowledged only through `acknowledge(value)` (its command durable in Redis), and its
 *   deliveries leave only then (`acknowledgesLater` is true).
 * A call for a user whose shard this node does not own is refused with 75006 NOT_OWNER (the front-end
 * relays such a client to the owner node: `ClusterService.ownerOf`).
 */
export interface ClusterPort extends EnginePort {
  /** `arg`: the call's first argument after the session (the userID for login/adopt, the options otherwise; a
   * ResumePoint for reconnect). */
  prepare(call: PreparedCall, session: DeviceHandle, arg: unknown): Promise<void>;
}

/** Admin calls from any node (REST, the dashboard): split by shard, sent to the owners, answers merged. */
export interface ClusterAdmin {
  registerUsers(userIDs: unknown): Promise<void>;
  hasUser(userID: string): Promise<boolean>;
  changeFriends(userID: unknown, friendIDs: unknown, add: boolean, both?: boolean): Promise<void>;
  /** Console settings: every shard of the cluster takes the change (a command in each shard's log). */
  configure(change: unknown): Promise<void>;
  settings(): Promise<AccessContext>;
  queryStatus(userIDs: unknown, opts: unknown): Promise<AdminStatus[]>;
  explain(userID: unknown): Promise<StatusTransition[]>;
  /** One shard's journal (each shard has its own sequence); `opts` as EnginePort.journal's. */
  journal(shard: number, opts?: unknown): Promise<JournalEntry[]>;
  /** The dashboard's reads (optional: test doubles may leave them out). One user's facts, read at its owner. */
  userFacts?(userID: unknown): Promise<UserFacts>;
  /** Registered and online users over every shard, each counted at its owner; `missing`: shards that had no owner. */
  counts?(): Promise<ClusterCounts>;
}

/** What the dashboard shows of one user, as its owner's engine has it (plain JSON: it crosses nodes). */
export interface UserFacts {
  /** queryStatus([userID], { detail: true })[0]. */
  status: AdminStatus;
  detail: UserDetail;
  /** Each device's link state (null: none). */
  links: Record<string, LinkState | null>;
}

export interface ClusterCounts {
  registeredUsers: number;
  onlineUsers: number;
  missing: number[];
}

/** What /healthz shows of the node. */
export interface ClusterHealth {
  node: string;
  /** The shards this node owns now. */
  shards: number[];
  shardCount: number;
  /** The nodes whose membership has not run out, sorted. */
  live: string[];
  redis: 'ready' | 'connecting' | 'down';
  lastError: string | null;
  /** This node's pushes to and from other nodes, and whether it is still moving (runtime.ts traffic()). */
  pushes?: { sent: number; lost: number; received: number; busy: boolean };
}

export interface ClusterService {
  readonly nodeId: string;
  readonly port: ClusterPort;
  readonly admin: ClusterAdmin;
  /** The shard of a user (stable: src/cluster/shardMap.ts). */
  shardOf(userID: string): number;
  /** The node that owns the user's shard now; null while nobody does (a takeover in progress: retry). */
  ownerOf(userID: string): string | null;
  /** Called when this node stops owning a shard: the front-ends close the sockets of its users' devices
   * (their clients reconnect, are relayed to the new owner and resume: EXT-2). Returns the unsubscribe. */
  onShardLost(listener: (shard: number) => void): () => void;
  /** Called when this node starts running a shard's engine (taken, or rebuilt): `inspector` is that engine's
   * inspection bridge (null without the `inspect` option), for `serve --inspect`. Optional: test doubles. */
  onShardTaken?(listener: (shard: number, inspector: InspectBridge | null) => void): () => void;
  health(): ClusterHealth;
  /** Joins: heartbeats, takes its share of the shards, waits until it owns them. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM): hands its shards over at once, then closes. */
  stop(): Promise<void>;
}
