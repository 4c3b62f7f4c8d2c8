// One node's membership and shard ownership, performed: heartbeats, the lease actions planOwnership
// decides, and for each shard it takes, the state to rebuild from (snapshot + log) and a fenced writer.
// The engine plugs in through onAcquired/onLost (see docs/cluster.md: what is left to wire).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { ShardWriter, type Resolution } from './groupCommit';
import { encode, parseMessage, type NodeMessage } from './messages';
import { planLeave, planOwnership, type OwnershipAction } from './ownership';
import { DEFAULT_SHARDS, checkShardCount, intendedOwners, ownerOf } from './shardMap';
import type { ClusterBackend, LeaseGrant, ShardState } from './types';

export interface OwnedShard {
  grant: LeaseGrant;
  state: ShardState;
  writer: ShardWriter;
}

export interface ClusterNodeOptions {
  id: string;
  backend: ClusterBackend;
  clock: Clock;
  shards?: number;
  /** Time between ticks; default a third of the lease. */
  tickMs?: number;
  /** false: ticks only when tick() is called (tests drive them). */
  autoTick?: boolean;
  /** Names this process in the leases (default a fresh UUID): a restarted node, or a second process
   * started by mistake with the same id, never shares the previous one's lease and token. */
  incarnation?: string;
  /** Called with the rebuilt state of a shard this node now owns (before any write of it). */
  onAcquired?: (s: OwnedShard) => void;
  onLost?: (shard: number, why: 'released' | 'expired' | 'fenced') => void;
  onResolved?: (shard: number, r: Resolution) => void;
  /** A message on this node's channel that ownership does not read (forwarding, pushes), parsed once here
   * (undefined: it did not parse). */
  onMessage?: (m: NodeMessage | undefined) => void;
}

export class ClusterNode {
  readonly id: string;
  readonly shards: number;
  /** The lease holder's name: `id#incarnation`. */
  readonly holder: string;
  private readonly owned = new Map<number, OwnedShard>();
  private live: string[] = [];
  private ticking: Promise<void> | undefined;
  private again = false;
  private timer: unknown;
  private unsubscribe: (() => Promise<void>) | undefined;
  private stopped = false;
  /** stop() began: no round may run again (one would heartbeat this node back into the member set). */
  private leaving = false;
  /** Last tick's failure (Redis down), for /healthz. */
  lastError: string | undefined;
  /** Rounds begun so far (a claim is dropped by the first round begun after it arrived). */
  private rounds = 0;
  /**
   * Shards other nodes said they took since this node's last round: where their traffic goes until a round
   * reads the member set again. Without it, a sender whose round has not run yet keeps routing a moved
   * shard's deliveries to its previous owner, which drops them (its devices left with the shard).
   */
  private readonly claims = new Map<number, { node: string; at: number }>();

  constructor(private readonly o: ClusterNodeOptions) {
    this.id = o.id;
    this.shards = checkShardCount(o.shards ?? DEFAULT_SHARDS);
    this.holder = `${o.id}#${o.incarnation ?? randomUUID()}`;
  }

  get tickMs(): number {
    return this.o.tickMs ?? Math.max(1, Math.floor(this.o.backend.lease.ttlMs / 3));
  }
  /** The shards this node owns now, and the nodes it last saw alive. */
  view(): { shards: number[]; live: string[] } {
    return { shards: [...this.owned.keys()].sort((a, b) => a - b), live: [...this.live] };
  }
  shard(s: number): OwnedShard | undefined {
    return this.owned.get(s);
  }
  /** Where a user's shard should be served from, as this node sees the cluster. */
  ownerOf(shard: number): string | undefined {
    return this.owned.has(shard) ? this.id : (this.claims.get(shard)?.node ?? this.intended(shard));
  }
  /** ownerOf(shard, live) from a table made once per member set read: a rendezvous hashes a string per live
   * node, and every delivery to another node's user asks it (~2% of a 3-node change's CPU, profiled). */
  private table: Array<string | undefined> = [];
  private tableOf: readonly string[] | null = null;
  private intended(shard: number): string | undefined {
    if (this.tableOf !== this.live) {
      // `live` is replaced, never changed in place: a new array is a new member set (or the same one read again).
      this.table = intendedOwners(this.shards, this.live);
      this.tableOf = this.live;
    }
    return shard >= 0 && shard < this.shards && Number.isInteger(shard) ? this.table[shard] : ownerOf(shard, this.live);
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.o.backend.bus.subscribe(this.id, (raw) => this.onBus(raw));
    await this.tick();
  }

  /** One round: heartbeat, read who is alive, then take/renew/hand over leases. Never throws. */
  tick(): Promise<void> {
    // A peer's rebalance hint can reach a stopping node mid-handoff (it answers calls until it is gone):
    // a round then would heartbeat it back into the member set and re-acquire the shards it just released,
    // which then wait out their lease as after a crash.
    if (this.leaving) return this.ticking ?? Promise.resolve();
    if (this.ticking) {
      // A wake-up (a shard handed to us) during a round must not be lost: run one more round after it.
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.round().finally(() => {
      this.ticking = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.tick();
      } else if (!this.stopped && this.o.autoTick !== false) this.schedule();
    });
    return this.ticking;
  }

  /** Stops ticking without telling anyone: what SIGSTOP (or a long GC pause) does to a node. */
  freeze(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
  /** SIGCONT: ticking resumes (its timer fires late, as a stopped process's does). */
  thaw(): void {
    this.stopped = false;
    if (this.o.autoTick !== false && this.ticking === undefined) this.schedule();
  }

  /** Resolves when the round in progress (if any) is over: for tests that drive the clock. */
  async settled(): Promise<void> {
    while (this.ticking) await this.ticking;
  }

  /** Graceful stop (SIGTERM): every shard handed over at once, then leave the member set. */
  async stop(): Promise<void> {
    this.leaving = true;
    this.freeze();
    await this.settled();
    // Leave the member set first, so that the nodes woken by the handoff no longer count this one.
    await this.o.backend.membership.leave(this.id).catch(() => undefined);
    const plan = planLeave(this.id, this.live, this.grants());
    // Every shard at once (each is a lease release and a message: round trips, not work).
    await Promise.all(plan.map((a) => this.perform([a])));
    // The nodes not told of a shard still count this one as alive, and route its users here, until their
    // next round: wake them too, so that they look again now (a round of theirs reads the member set).
    const told = new Set(plan.map((a) => (a.type === 'release' ? a.to : undefined)));
    const wake = encode({ t: 'released', shard: plan[0]?.type === 'release' ? plan[0].grant.shard : 0, from: this.id });
    await Promise.all(this.live.filter((n) => n !== this.id && !told.has(n)).map((n) => this.o.backend.bus.publish(n, wake).catch(() => undefined)));
    await this.unsubscribe?.().catch(() => undefined);
  }

  private schedule(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, this.tickMs);
  }

  private grants(): Map<number, LeaseGrant> {
    return new Map([...this.owned].map(([s, o]) => [s, o.grant]));
  }

  private async round(): Promise<void> {
    const { membership } = this.o.backend;
    const begun = ++this.rounds;
    try {
      await membership.heartbeat(this.id);
      this.live = await membership.live();
      this.lastError = undefined;
      // The member set read now covers what was claimed before this round began.
      for (const [s, c] of this.claims) if (c.at < begun) this.claims.delete(s);
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      // Without Redis we cannot renew: plan with what we know, so leases that ran out are dropped.
    }
    const actions = planOwnership({
      me: this.id,
      shards: this.shards,
      live: this.lastError === undefined ? this.live : [this.id, ...this.live.filter((n) => n !== this.id)],
      now: this.o.clock.now(),
      held: this.grants(),
      renewBeforeMs: this.o.backend.lease.ttlMs - this.tickMs,
    });
    await this.perform(actions);
  }

  private async perform(actions: OwnershipAction[]): Promise<void> {
    const { lease, bus } = this.o.backend;
    for (const a of actions) {
      try {
        if (a.type === 'drop') this.lose(a.grant.shard, 'expired');
        else if (a.type === 'renew') {
          const g = await lease.renew(a.grant);
          if (g === null) this.lose(a.grant.shard, 'fenced');
          else this.owned.get(a.grant.shard)!.grant = g;
        } else if (a.type === 'release') {
          // Stop writing first, then free the lease, then wake the next owner.
          this.lose(a.grant.shard, 'released');
          await lease.release(a.grant);
          // The others drop a claim of ours on it (see announce()), before the next owner's claim arrives.
          this.tell(encode({ t: 'gave', shard: a.grant.shard, from: this.id }), a.to);
          if (a.to !== undefined) await bus.publish(a.to, encode({ t: 'released', shard: a.grant.shard, from: this.id }));
        } else await this.take(a.shard);
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
      }
    }
  }

  private async take(shard: number): Promise<void> {
    const { lease, log } = this.o.backend;
    const r = await lease.acquire(shard, this.holder);
    if (!r.ok) return;
    try {
      await log.open(shard, randomUUID());
      const state = (await log.load(shard))!;
      const writer = new ShardWriter({
        shard,
        log,
        fence: { token: r.grant.token, epoch: state.epoch },
        head: state.head,
        onResolved: (res) => this.o.onResolved?.(shard, res),
        onStopped: () => this.lose(shard, 'fenced'),
      });
      const owned = { grant: r.grant, state, writer };
      this.owned.set(shard, owned);
      try {
        this.o.onAcquired?.(owned);
      } catch (e) {
        this.owned.delete(shard);
        writer.close();
        throw e;
      }
      this.announce(shard);
    } catch (e) {
      // Could not rebuild: give the lease back so that we do not sit on a shard we cannot serve.
      await lease.release(r.grant).catch(() => undefined);
      throw e;
    }
  }

  /** The shard's engine failed a write (its memory is ahead of the log): stop serving it now and take it
   * again from the log at once (the same holder gets its lease back with the same token), or at a later
   * round while Redis is away. */
  reload(shard: number): void {
    this.lose(shard, 'fenced');
    if (!this.stopped) void this.tick();
  }

  private lose(shard: number, why: 'released' | 'expired' | 'fenced'): void {
    const o = this.owned.get(shard);
    if (o === undefined) return;
    this.owned.delete(shard);
    o.writer.close();
    this.o.onLost?.(shard, why);
  }

  /**
   * Tells every other live node, now, that this node serves `shard`. Published before anything else this node
   * sends them from here on (one connection: in order), so a node asked for facts by a device that came here
   * with the shard already routes the shard's deliveries here: what changes after its answer reaches the device.
   */
  private announce(shard: number): void {
    this.tell(encode({ t: 'took', shard, from: this.id }));
  }

  /** Publishes `m` to every other live node (but `except`), without waiting (the publishes leave in order). */
  private tell(m: string, except?: string): void {
    for (const n of this.live) if (n !== this.id && n !== except) this.o.backend.bus.publish(n, m).catch(() => undefined);
  }

  private onBus(raw: string): void {
    const m = parseMessage(raw);
    if (m?.t === 'released') {
      if (this.claims.get(m.shard)?.node === m.from) this.claims.delete(m.shard);
      if (!this.stopped) void this.tick();
      return;
    }
    if (m?.t === 'took') {
      if (m.from !== this.id) this.claims.set(m.shard, { node: m.from, at: this.rounds });
      return;
    }
    if (m?.t === 'gave') {
      if (this.claims.get(m.shard)?.node === m.from) this.claims.delete(m.shard);
      return;
    }
    this.o.onMessage?.(m);
  }
}
