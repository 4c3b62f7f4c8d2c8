// One owned shard's engine on a cluster node: rebuilt from the shard's snapshot + log (the restart path of a
// durable store: records and the engine's memory loaded, the log's tail replayed, then pending timers
// re-armed and the devices that were connected left to wait out their heartbeat timeout: no ghosts; the
// old owner's rate windows and silent links carry over), writing every command through the
// shard's fenced group-commit writer, its deliveries held until their command is durable, and snapshots
// taken every N commands or T ms so that the next owner replays a bounded tail.
import { randomUUID } from 'node:crypto';
import type { Broker, LocalDelivery, PeerMessage } from '../broker/types';
import type { Clock } from '../clock';
import type { ClientEvent } from '../events';
import { coreOf, createEngineWithRules } from '../engine/engine';
import type { EngineCore } from '../engine/core';
import type { JournalEntry } from '../records';
import type { EngineOptions } from '../types';
import type { OwnedShard } from './node';
import { shardOf } from './shardMap';
import { emptyEngineMemory, takeSnapshot, type Snapshot } from '../store/snapshot';
import { readShardSnapshot, ShardStore } from './shardStore';
import type { ShardLog } from './types';

/** The engine options every shard engine of a node gets (not clock, store, broker, owns: the node's). */
export type ShardEngineConfig = Omit<EngineOptions, 'clock' | 'store' | 'broker' | 'owns' | 'journal'>;

export interface SnapshotPolicy {
  /** A snapshot once this many commands landed since the last one. Default 1000. */
  everyCommands?: number;
  /** ... or once this much time went by with at least one command. Default 60 s. */
  everyMs?: number;
  /** Commands kept in the log before the snapshot, for resuming readers. Default 1000. */
  retain?: number;
}

/** How a shard engine's deliveries and peer reads leave it (the node routes them). */
export interface ShardRoutes {
  one(from: number, userID: string, event: ClientEvent, seq: number, deviceId?: string): void;
  many(from: number, userIDs: readonly string[], event: ClientEvent, seq: number): void;
  peer(from: number, userID: string, message: PeerMessage): unknown;
}

/** A shard engine's broker: everything it publishes waits for its command to be durable, then is routed. */
class ShardBroker implements Broker {
  readonly kind = 'cluster';
  local: LocalDelivery | undefined;
  constructor(
    private readonly shard: number,
    private readonly store: ShardStore,
    private readonly routes: ShardRoutes,
  ) {}
  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    this.store.afterDurable(() => this.routes.one(this.shard, userID, event, seq, deviceId));
  }
  publishMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const ids = [...userIDs];
    this.store.afterDurable(() => this.routes.many(this.shard, ids, event, seq));
  }
  toOwner(userID: string, message: PeerMessage): unknown {
    return this.routes.peer(this.shard, userID, message);
  }
  attach(local: LocalDelivery): () => void {
    this.local = local;
    return () => {
      if (this.local === local) this.local = undefined;
    };
  }
  async close(): Promise<void> {}
}

type Mirror = Extract<PeerMessage, { type: 'mirror' }>;

/** The broker of a replay: nothing is delivered, and nothing is asked of other shards (its reads serve only
 * live devices). The mirrors the replayed commands make are kept: the log's tail is the shard's outbox. */
const replayBroker = (mirrors: Mirror[]): Broker => ({
  kind: 'replay',
  publish: () => {},
  publishMany: () => {},
  attach: () => () => {},
  toOwner: (_u, m) => void (m.type === 'mirror' && mirrors.push(m)),
  close: async () => {},
});

export interface ShardEngineOptions {
  owned: OwnedShard;
  shards: number;
  clock: Clock;
  log: ShardLog;
  engine: ShardEngineConfig;
  routes: ShardRoutes;
  snapshot?: SnapshotPolicy;
  /** Journal entries kept in memory per shard engine (admin journal reads). Default 1000. */
  journalMaxEntries?: number;
  /** The shard's writes failed (fenced, Redis down, in doubt): drop this engine and rebuild from Redis. */
  onFailure: (e: unknown) => void;
}

export class ShardEngine {
  readonly shard: number;
  readonly core: EngineCore;
  readonly store: ShardStore;
  /** Names this engine instance in its pushes: a rebuilt shard starts a new chain (receivers resync). */
  readonly chain = randomUUID();
  private readonly broker: ShardBroker;
  /**
   * The mirrors of the commands replayed from the log's tail, in log order. A mirror leaves only after its
   * command is durable and may not have reached the target's owner when the previous owner died; no snapshot
   * is taken while one is unacknowledged, so every such mirror is in the tail, and the new owner sends them
   * all again (applying a mirror twice changes nothing).
   */
  readonly replayedMirrors: Mirror[] = [];
  /** What this instance was rebuilt from (tests, the bench): a snapshot's kind or none, and the tail's length. */
  readonly rebuiltFrom: { snapshot: string | null; tail: number };
  /** Mirrors sent and not acknowledged yet (no snapshot meanwhile: see replayedMirrors). */
  mirrorsPending = 0;
  private sinceSnapshot = 0;
  private lastSnapshotAt: number;
  private snapshotting = false;
  private closed = false;

  constructor(private readonly o: ShardEngineOptions) {
    const { owned, shards, clock } = o;
    const shard = (this.shard = owned.grant.shard);
    const owns = (u: string) => shardOf(u, shards) === shard;
    const journal = { maxEntries: o.journalMaxEntries ?? 1000 };
    // The snapshot (issue 9's form; an old node's store dump is read too), then the log after it.
    const snapshot = owned.state.snapshot === null ? null : readShardSnapshot(shard, owned.state.snapshot.data);
    const store = (this.store = ShardStore.load(snapshot, { journalMaxEntries: journal.maxEntries }));
    let memory = snapshot?.engine ?? emptyEngineMemory();
    const entries = owned.state.entries.map((e) => JSON.parse(e.command) as JournalEntry);
    if (entries.length > 0) {
      // Replay on a throwaway engine (each command at its own time, nothing delivered), so that the real one
      // then starts as after a restart of a durable store: timers re-armed, connected devices waiting. The
      // engine's memory (rate windows, silent links) goes from the snapshot through the replay to the real one.
      let fixed: number | null = null;
      const at: Clock = { now: () => fixed ?? clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) };
      const stored = store.getSettings() !== undefined;
      // No inspector: the replay re-runs old steps, and an inspector would show them as happening now.
      const { inspect: _inspect, inspectUsers: _users, ...quiet } = o.engine;
      const options = { ...(stored ? quiet : { machines: o.engine.machines }), clock: at, store, broker: replayBroker(this.replayedMirrors), owns, journal };
      const temp = coreOf(createEngineWithRules({}, options, {}, { adoptStored: false, memory }));
      temp.replay(entries, (t) => (fixed = t));
      memory = temp.compaction.memory();
      temp.close();
    }
    this.rebuiltFrom = { snapshot: snapshot === null ? null : snapshot.kind, tail: entries.length };
    this.broker = new ShardBroker(shard, store, o.routes);
    store.capture(owned.writer);
    store.onFailure = (e) => o.onFailure(e);
    store.onDurable = (offset) => this.durableAt(offset);
    this.lastSnapshotAt = clock.now();
    this.core = coreOf(createEngineWithRules({}, { ...o.engine, clock, store, broker: this.broker, owns, journal }, {}, { memory }));
  }

  /** How the engine reaches its own devices and answers peers (set by the engine when it attached). */
  get local(): LocalDelivery | undefined {
    return this.broker.local;
  }

  private durableAt(offset: number): void {
    this.sinceSnapshot += 1;
    const p = this.o.snapshot ?? {};
    if (this.closed || this.snapshotting || this.store.inFlight > 0 || this.mirrorsPending > 0) return;
    const due = this.sinceSnapshot >= (p.everyCommands ?? 1000) || this.o.clock.now() - this.lastSnapshotAt >= (p.everyMs ?? 60_000);
    if (due) this.snapshot(offset);
  }

  /** Between transactions and with nothing in flight, memory is exactly the log up to `offset`. */
  private snapshot(offset: number): void {
    const { owned } = this.o;
    const data = JSON.stringify(this.snapshotNow());
    this.snapshotting = true;
    this.sinceSnapshot = 0;
    this.lastSnapshotAt = this.o.clock.now();
    this.snapshots += 1;
    this.o.log
      .snapshot(this.shard, { token: owned.grant.token, epoch: owned.state.epoch }, offset, data, this.o.snapshot?.retain ?? 1000)
      .catch(() => undefined) // not fatal: the next one covers it, the log still has everything
      .finally(() => (this.snapshotting = false));
  }
  /**
   * The shard's Snapshot now (between transactions): what `core.snapshot()` gives, without the copies the
   * engine's public snapshot makes, since it is serialized at once (with journal entries on, the store's
   * last seq is the engine's).
   */
  snapshotNow(): Snapshot {
    return takeSnapshot(this.store, this.store.lastSeq(), this.o.clock.now(), this.core.compaction.memory(), { copy: false });
  }
  /** Snapshots taken by this instance (tests). */
  snapshots = 0;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.close();
  }
}
