// One cluster node's moving parts: its ClusterNode (leases), an engine per owned shard, and the routes
// between shard engines: deliveries (local, or pushed to the node holding the recipient's devices, in
// order per node and shard, a hole making the receiver resync its devices), peer reads (a local engine, or
// the facts fetched before the call), mirrors (after the source's commit is durable, to the target's owner,
// retried until acknowledged) and forwarded calls (facts, mirrors, admin calls, rebalance hints).
import type { PeerMessage } from '../broker/types';
import type { Clock } from '../clock';
import type { ClientEvent } from '../events';
import { ClusterError, ClusterErrorCode } from './errors';
import { Forwarder } from './forward';
import type { NodeMessage, Push } from './messages';
import type { PushBody } from './pushCodec';
import { ClusterNode, type OwnedShard } from './node';
import { Mirrors } from './mirrors';
import { PushInbox, PushSender } from './pushes';
import { ReadCache, factsOf, type Fact } from './reads';
import { ShardEngine, type ShardEngineConfig, type SnapshotPolicy } from './shardEngine';
import { shardOf } from './shardMap';
import type { ClusterBackend } from './types';

export interface RuntimeOptions {
  backend: ClusterBackend;
  nodeId: string;
  shards: number;
  clock: Clock;
  engine: ShardEngineConfig;
  snapshot?: SnapshotPolicy;
  journalMaxEntries?: number;
  forwardTimeoutMs: number;
  readTtlMs: number;
  mirrorRetryMs: number;
  autoTick: boolean;
  tickMs?: number;
  incarnation?: string;
}

/** What nodes ask each other through the Forwarder (besides the admin calls: see admin.ts). */
export type Request =
  | { op: 'facts'; viewer: string; users: string[] }
  | { op: 'mirror'; m: Extract<PeerMessage, { type: 'mirror' }> }
  | { op: 'rebalance' }
  | { op: 'admin'; name: string; args: unknown[] };

export class ClusterRuntime {
  readonly node: ClusterNode;
  readonly engines = new Map<number, ShardEngine>();
  readonly forwarder: Forwarder;
  readonly cache: ReadCache;
  private readonly sender: PushSender;
  private readonly inbox: PushInbox;
  private readonly lostListeners = new Set<(shard: number) => void>();
  /** Told of each shard engine built here (the port hooks its listeners on it). */
  readonly engineListeners = new Set<(e: ShardEngine) => void>();
  private readonly mirrors: Mirrors;
  private stopped = false;
  /** This node stopped (or is stopping): nothing more is scheduled. */
  get isStopped(): boolean {
    return this.stopped;
  }
  private halted = false;
  private hinting = false;
  /** Served elsewhere (admin.ts): an admin call this node runs for a shard it owns. */
  serveAdmin: (name: string, args: unknown[]) => Promise<unknown> = async () => {
    throw new ClusterError(ClusterErrorCode.NOT_OWNER, 'no admin here');
  };
  /** Set by the port: brings a node's receiving devices up to date after a hole in pushes (resume by versions). */
  resync: (fromShard: number) => Promise<void> = async () => {};
  /** Counters for tests and health. */
  readonly counts = { pushesSent: 0, pushesLost: 0, pushesReceived: 0, pushesDelivered: 0, duplicates: 0, resyncs: 0, resumes: 0, resyncRetries: 0, mirrorsSent: 0, mirrorRetries: 0, mirrorsSuperseded: 0, rebuilds: 0, failures: 0 };

  constructor(readonly o: RuntimeOptions) {
    this.cache = new ReadCache(o.clock, o.readTtlMs);
    this.mirrors = new Mirrors(this, o.clock, o.mirrorRetryMs);
    this.sender = new PushSender(o.backend.bus, (n) => (this.counts.pushesLost += n));
    this.inbox = new PushInbox({ deliver: (b) => this.deliver(b as PushBody), resync: (shard) => this.resync(shard), counts: this.counts });
    this.forwarder = new Forwarder({ me: o.nodeId, bus: o.backend.bus, clock: o.clock, timeoutMs: o.forwardTimeoutMs, serve: (_s, body) => this.serve(body as Request) });
    this.node = new ClusterNode({
      id: o.nodeId,
      backend: o.backend,
      clock: o.clock,
      shards: o.shards,
      autoTick: o.autoTick,
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(o.incarnation === undefined ? {} : { incarnation: o.incarnation }),
      onAcquired: (owned) => this.acquired(owned),
      onLost: (shard) => this.drop(shard),
      onMessage: (m) => this.message(m),
    });
  }

  get me(): string {
    return this.o.nodeId;
  }
  shardOf(userID: string): number {
    return shardOf(userID, this.o.shards);
  }
  /** The node to send a shard's traffic to now (null: nobody owns it as far as we know). */
  ownerOfShard(shard: number): string | null {
    return this.node.ownerOf(shard) ?? null;
  }

  onShardLost(l: (shard: number) => void): () => void {
    this.lostListeners.add(l);
    return () => this.lostListeners.delete(l);
  }

  // -------------------------------------------------------------------------------------------------------
  // Shard engines.

  private acquired(owned: OwnedShard): void {
    const shard = owned.grant.shard;
    this.drop(shard);
    const engine = new ShardEngine({
      owned,
      shards: this.o.shards,
      clock: this.o.clock,
      log: this.o.backend.log,
      engine: this.o.engine,
      ...(this.o.snapshot === undefined ? {} : { snapshot: this.o.snapshot }),
      ...(this.o.journalMaxEntries === undefined ? {} : { journalMaxEntries: this.o.journalMaxEntries }),
      // Deliveries go out in this instance's chain, also those of a command that becomes durable after the shard
      // was let go (its append was in flight): the receivers deliver them as the chain's next pushes. Under a chain
      // of their own they would look like a new owner's, and the receiver would resync from the owner instead,
      // which nobody may be at that moment (the push then lost for good).
      routes: { one: (f, u, e, s, d) => this.one(engine.chain, f, u, e, s, d), many: (f, us, e, s) => this.many(engine.chain, f, us, e, s), peer: (f, u, m) => this.peer(f, u, m) },
      onFailure: () => {
        // Memory is ahead of the log: this instance must not serve another call. Rebuild from Redis.
        this.counts.failures += 1;
        if (this.engines.get(shard) === engine) this.node.reload(shard);
      },
    });
    this.engines.set(shard, engine);
    this.counts.rebuilds += 1;
    // The new chain begins at every other node now, not at its first change for them (see ChainStart).
    for (const n of this.node.view().live) if (n !== this.me) this.push(n, shard, engine.chain, { start: 1 });
    for (const l of this.engineListeners) l(engine);
    if (engine.replayedMirrors.length > 0) void this.mirrors.resend(engine);
    this.later(shard);
    this.hintOthers();
  }

  /** Took shards: the other nodes run a round now, so that their view of who owns what (where they send
   * deliveries) is fresh at once rather than at their next tick. Once per turn. */
  private hintOthers(): void {
    if (this.hinting || this.stopped) return;
    this.hinting = true;
    setImmediate(() => {
      this.hinting = false;
      for (const n of this.node.view().live) {
        if (n !== this.me) this.forwarder.request(n, 0, { op: 'rebalance' } satisfies Request).catch(() => undefined);
      }
    });
  }

  /** Shards taken and not yet resynced (see later()). */
  private readonly fresh = new Set<number>();
  private started = false;
  private freshTimer: unknown;
  /**
   * Until the other nodes' next rounds they may still push a taken shard's deliveries to its previous owner
   * (lost with it), after its devices came here and resumed. Every node rounds at least every tickMs, so two
   * of them after taking it, the devices of the shards taken meanwhile resume by versions once more (what
   * they hold is not sent again): nothing is left behind. Not an answer to the rebalance hint: replies are in
   * call order per node, and a round waited for there would hold every other reply behind it.
   */
  private later(shard: number): void {
    if (!this.started) return; // the share taken while joining: no device is here yet
    this.fresh.add(shard);
    if (this.freshTimer !== undefined) return;
    this.freshTimer = this.o.clock.setTimeout(() => {
      this.freshTimer = undefined;
      const shards = [...this.fresh];
      this.fresh.clear();
      if (!this.stopped) void this.resyncShards(shards);
    }, 2 * this.node.tickMs);
  }
  /** Set by the port: the receiving devices of these shards (here) resume by versions. */
  resyncShards: (shards: readonly number[]) => Promise<void> = async () => {};

  private drop(shard: number): void {
    const e = this.engines.get(shard);
    if (e === undefined) return;
    this.engines.delete(shard);
    e.close();
    for (const l of this.lostListeners) l(shard);
  }

  engineOf(userID: string): ShardEngine | undefined {
    return this.engines.get(this.shardOf(userID));
  }

  /** The engine serving `userID`'s shard here, or the error a call for it gets. */
  requireEngine(userID: string): ShardEngine {
    const shard = this.shardOf(userID);
    const e = this.engines.get(shard);
    if (e !== undefined) return e;
    if (this.node.shard(shard) !== undefined || this.ownerOfShard(shard) === this.me) {
      throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `shard ${shard} is being rebuilt from Redis on this node: retry`, { shard });
    }
    const owner = this.ownerOfShard(shard);
    throw new ClusterError(ClusterErrorCode.NOT_OWNER, `user '${userID}' is in shard ${shard}, owned by ${owner === null ? 'no node right now' : `node ${owner}`}: call it there`, { shard });
  }

  // -------------------------------------------------------------------------------------------------------
  // Deliveries (already durable: ShardBroker held them).

  private one(chain: string, from: number, userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    const shard = this.shardOf(userID);
    const local = this.engines.get(shard);
    if (local !== undefined) return local.local?.one(userID, event, seq, deviceId);
    const to = this.ownerOfShard(shard);
    if (to !== null && to !== this.me) this.push(to, from, chain, deviceId === undefined ? { u: userID, e: event, s: seq } : { u: userID, e: event, s: seq, d: deviceId });
  }

  private many(chain: string, from: number, userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const remote = new Map<string, string[]>();
    const local = new Map<ShardEngine, string[]>();
    for (const u of userIDs) {
      const shard = this.shardOf(u);
      const e = this.engines.get(shard);
      if (e !== undefined) push(local, e, u);
      else {
        const to = this.ownerOfShard(shard);
        if (to !== null && to !== this.me) push(remote, to, u);
      }
    }
    for (const [e, us] of local) e.local?.many(us, event, seq);
    for (const [to, us] of remote) this.push(to, from, chain, { us, e: event, s: seq });
  }

  /** `chain`: the engine instance that made the change (see acquired()). A failed publish (Redis away) is a hole
   * the receiver finds at the next push, and resyncs. */
  private push(to: string, from: number, chain: string, body: PushBody): void {
    this.counts.pushesSent += 1;
    this.sender.post(to, from, chain, body);
  }

  /** Whether anything of this node is still moving: appends, forwarded calls, pushes being admitted. */
  busy(): boolean {
    if (this.inbox.admitting > 0 || this.forwarder.pending > 0 || this.sender.queued > 0) return true;
    for (const e of this.engines.values()) if (e.store.inFlight > 0) return true;
    return false;
  }

  /** /healthz's `pushes` (ClusterHealth): what a test across processes waits for before it reads what devices
   * heard, as the in-process harness does with busy() and the counts. Across the cluster, every push sent was
   * taken (sent - lost = received, summed over the nodes) and no node `busy`: nothing in flight here, no mirror
   * waiting to be acknowledged, no resume of a taken shard's devices still to come (later()). */
  traffic(): { sent: number; lost: number; received: number; busy: boolean } {
    let busy = this.busy() || this.freshTimer !== undefined;
    for (const e of this.engines.values()) if (e.mirrorsPending > 0) busy = true;
    return { sent: this.counts.pushesSent, lost: this.counts.pushesLost, received: this.counts.pushesReceived, busy };
  }

  private receive(p: Push): void {
    this.counts.pushesReceived += 1;
    this.inbox.receive(p);
  }

  private deliver(b: PushBody): void {
    if ('start' in b) return; // a chain's first push: its news is that it began (PushInbox resyncs on that)
    this.counts.pushesDelivered += 1;
    this.cache.saw('u' in b ? [b.u] : b.us, b.e);
    if ('u' in b) {
      this.engineOf(b.u)?.local?.one(b.u, b.e, b.s, b.d);
      return;
    }
    const by = new Map<ShardEngine, string[]>();
    for (const u of b.us) {
      const e = this.engineOf(u);
      if (e !== undefined) push(by, e, u);
    }
    for (const [e, us] of by) e.local?.many(us, b.e, b.s);
  }

  // -------------------------------------------------------------------------------------------------------
  // Peer messages from a shard engine about another shard's user.

  private peer(from: number, userID: string, m: PeerMessage): unknown {
    if (m.type === 'mirror') return this.mirrors.send(from, m);
    const local = this.engineOf(userID);
    if (local?.local?.peer !== undefined) return local.local.peer(m);
    return this.cache.answer(m);
  }

  // -------------------------------------------------------------------------------------------------------
  // Facts of other nodes' users, fetched before a call.

  /** Fetches what `viewer`'s call will read of `users` on other nodes' shards into the cache. */
  async fetch(viewer: string, users: Iterable<string>): Promise<void> {
    const by = new Map<string, string[]>();
    for (const u of new Set(users)) {
      if (typeof u !== 'string') continue;
      const shard = this.shardOf(u);
      if (this.engines.has(shard)) continue;
      const to = this.ownerOfShard(shard);
      if (to === null || to === this.me) throw new ClusterError(ClusterErrorCode.NOT_OWNER, `user '${u}' is in shard ${shard}, which no node owns right now: retry`, { shard });
      push(by, to, u);
    }
    await Promise.all(
      [...by].map(async ([to, us]) => {
        const facts = (await this.forwarder.request(to, this.shardOf(us[0]!), { op: 'facts', viewer, users: us } satisfies Request)) as Fact[];
        this.cache.put(viewer, facts);
      }),
    );
  }

  private async serve(r: Request): Promise<unknown> {
    switch (r?.op) {
      case 'facts':
        return factsOf(r.viewer, r.users, (u) => this.engineOf(u)?.local?.peer);
      case 'mirror': {
        const e = this.requireEngine(r.m.target);
        e.local!.peer!(r.m);
        await e.store.landed(); // not durable(): that waits for this shard's own mirrors (a cycle across nodes)
        return true;
      }
      case 'rebalance':
        void this.node.tick();
        return true;
      case 'admin':
        return this.serveAdmin(r.name, r.args);
      default:
        throw new ClusterError(ClusterErrorCode.NOT_OWNER, 'unknown request');
    }
  }

  private message(m: NodeMessage | undefined): void {
    if (this.halted) {
      if (m?.t === 'push') this.counts.pushesReceived += 1; // reached it, and died with it
      if (m?.t === 'pushes') this.counts.pushesReceived += m.list.length;
      return;
    }
    if (m?.t === 'push') this.receive(m);
    else if (m?.t === 'pushes') for (const p of m.list) this.receive(p);
    else this.forwarder.take(m);
  }

  async start(): Promise<void> {
    await this.node.start();
    // Ask the others to run a round now, so that they hand this node its share at once.
    const others = this.node.view().live.filter((n) => n !== this.me);
    await Promise.all(others.map((n) => this.forwarder.request(n, 0, { op: 'rebalance' } satisfies Request).catch(() => undefined)));
    for (let i = 0; i < 5 && !this.ownsShare(); i++) {
      await new Promise((r) => setImmediate(r));
      await this.node.tick();
    }
    this.started = true;
  }

  /** Whether every shard this node should own (by the live set it saw) is served by an engine here. */
  ownsShare(): boolean {
    const live = this.node.view().live;
    for (let s = 0; s < this.o.shards; s++) if (this.node.ownerOf(s) === this.me && live.includes(this.me) && !this.engines.has(s)) return false;
    return true;
  }

  /** What kill -9 does to the node, for tests in one process: nothing of it runs any more (no rounds, no
   * retries, no answers), and nothing is handed over: its leases run out. */
  halt(): void {
    this.halted = this.stopped = true;
    if (this.freshTimer !== undefined) this.o.clock.clearTimeout(this.freshTimer);
    this.node.freeze();
    this.mirrors.stop();
    this.sender.drop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.freshTimer !== undefined) this.o.clock.clearTimeout(this.freshTimer);
    this.mirrors.stop();
    await this.node.stop();
    this.forwarder.close();
    for (const s of [...this.engines.keys()]) this.drop(s);
  }
}

function push<K>(m: Map<K, string[]>, k: K, u: string): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [u]);
  else list.push(u);
}
