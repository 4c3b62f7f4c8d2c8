// The one contract every cluster backend passes (the socket.io-redis-adapter pattern): memory and real
// Redis run the same tests. Lease, shard log, membership and bus, then the node-level promises built on
// them: one owner per shard, takeover after expiry, a frozen old owner fenced, handoff at once on stop,
// and group commit (one atomic append for a turn's calls).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterErrorCode } from '../../src/cluster/errors';
import { parseMessage } from '../../src/cluster/messages';
import { ClusterNode, type OwnedShard } from '../../src/cluster/node';
import { PushReceiver, PushSender, type Delivered } from '../../src/cluster/pushes';
import { ownerOf } from '../../src/cluster/shardMap';
import type { ClusterBackend, LeaseGrant } from '../../src/cluster/types';

export const LEASE_MS = 3_000;
export const HEARTBEAT_MS = 3_000;

export interface ClusterWorld {
  /** One node's connection to the shared data; call again for another node. */
  backend(clock: SimulatedClock): Promise<ClusterBackend>;
  /** The shard's data is lost (a Redis that came back empty). */
  lose(shard: number): Promise<void>;
  /** Atomic shard-log steps so far (Redis: EVALSHA calls counted by Redis itself). */
  scriptCalls(): Promise<number>;
  close(): Promise<void>;
}

const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: number }) => e.code);

export function clusterContract(name: string, makeWorld: () => Promise<ClusterWorld>): void {
  describe(`cluster backend contract: ${name}`, () => {
    let world: ClusterWorld;
    let clock: SimulatedClock;
    let opened: ClusterBackend[];
    const node = async () => {
      const b = await world.backend(clock);
      opened.push(b);
      return b;
    };
    beforeEach(async () => {
      world = await makeWorld();
      clock = new SimulatedClock();
      clock.set(1_000_000);
      opened = [];
    });
    afterEach(async () => {
      for (const b of opened) await b.close();
      await world.close();
    });

    const grant = async (b: ClusterBackend, shard: number, n: string): Promise<LeaseGrant> => {
      const r = await b.lease.acquire(shard, n);
      if (!r.ok) throw new Error(`expected to get shard ${shard}, held by ${r.holder.node}`);
      return r.grant;
    };

    describe('lease', () => {
      it('one holder at a time; the holder extends with the same token', async () => {
        const a = await node();
        const b = await node();
        const g = await grant(a, 1, 'a');
        expect(g.expiresAt).toBe(clock.now() + LEASE_MS);
        const other = await b.lease.acquire(1, 'b');
        expect(other).toEqual({ ok: false, holder: { node: 'a', token: g.token, expiresAt: g.expiresAt } });
        clock.increment(1_000);
        const again = await grant(a, 1, 'a');
        expect(again.token).toBe(g.token);
        expect(again.expiresAt).toBe(clock.now() + LEASE_MS);
      });

      it('expiry lets another take over with a larger token; the old grant can neither renew nor release', async () => {
        const a = await node();
        const b = await node();
        const g1 = await grant(a, 2, 'a');
        clock.increment(LEASE_MS);
        const g2 = await grant(b, 2, 'b');
        expect(g2.token).toBeGreaterThan(g1.token);
        expect(await a.lease.renew(g1)).toBeNull();
        expect(await a.lease.release(g1)).toBe(false);
        expect(await b.lease.holder(2)).toEqual({ node: 'b', token: g2.token, expiresAt: g2.expiresAt });
      });

      it('renew extends a current lease; release frees it at once for the next, with a larger token', async () => {
        const a = await node();
        const b = await node();
        const g = await grant(a, 3, 'a');
        clock.increment(LEASE_MS - 1);
        const r = await a.lease.renew(g);
        expect(r?.expiresAt).toBe(clock.now() + LEASE_MS);
        expect(await a.lease.release(r!)).toBe(true);
        expect(await a.lease.holder(3)).toBeNull();
        const g2 = await grant(b, 3, 'b');
        expect(g2.token).toBe(g.token + 1);
      });
    });

    describe('shard log', () => {
      it('appends batches in order after the head; load and readAfter give them back', async () => {
        const a = await node();
        const g = await grant(a, 4, 'a');
        const head = await a.log.open(4, 'E1');
        expect(head).toEqual({ epoch: 'E1', head: 0, lastBatch: '' });
        expect(await a.log.open(4, 'E2')).toEqual(head); // open keeps an existing epoch
        const fence = { token: g.token, epoch: 'E1' };
        expect(await a.log.append(4, fence, 0, 'b1', ['c1', 'c2'])).toBe(2);
        expect(await a.log.append(4, fence, 2, 'b2', ['c3'])).toBe(3);
        const s = await a.log.load(4);
        expect(s).toEqual({ epoch: 'E1', head: 3, lastBatch: 'b2', snapshot: null, entries: [{ offset: 1, command: 'c1' }, { offset: 2, command: 'c2' }, { offset: 3, command: 'c3' }] });
        expect(await a.log.readAfter(4, 1, 10)).toEqual({ epoch: 'E1', head: 3, firstKept: 1, entries: [{ offset: 2, command: 'c2' }, { offset: 3, command: 'c3' }] });
        expect((await a.log.readAfter(4, 0, 1))!.entries).toEqual([{ offset: 1, command: 'c1' }]);
        expect(await a.log.load(99)).toBeNull();
      });

      it('fencing: a stale token is refused and writes nothing, even after the new owner wrote', async () => {
        const a = await node();
        const b = await node();
        const g1 = await grant(a, 5, 'a');
        await a.log.open(5, 'E');
        await a.log.append(5, { token: g1.token, epoch: 'E' }, 0, 'x', ['a1']);
        clock.increment(LEASE_MS);
        const g2 = await grant(b, 5, 'b');
        // The old owner wakes and writes with what it believes is the head.
        expect(await code(a.log.append(5, { token: g1.token, epoch: 'E' }, 1, 'y', ['stale']))).toBe(ClusterErrorCode.FENCED);
        await b.log.append(5, { token: g2.token, epoch: 'E' }, 1, 'z', ['b1']);
        expect(await code(a.log.append(5, { token: g1.token, epoch: 'E' }, 2, 'y', ['stale']))).toBe(ClusterErrorCode.FENCED);
        expect((await b.log.load(5))!.entries.map((e) => e.command)).toEqual(['a1', 'b1']);
      });

      it('no gap and no duplicate: a batch must follow the head exactly, so a resent batch cannot land twice', async () => {
        const a = await node();
        const g = await grant(a, 6, 'a');
        await a.log.open(6, 'E');
        const f = { token: g.token, epoch: 'E' };
        await a.log.append(6, f, 0, 'b1', ['c1']);
        const resent = a.log.append(6, f, 0, 'b1', ['c1']);
        await expect(resent).rejects.toMatchObject({ code: ClusterErrorCode.LOG_CONFLICT, current: 1 });
        expect(await code(a.log.append(6, f, 5, 'b2', ['gap']))).toBe(ClusterErrorCode.LOG_CONFLICT);
        expect((await a.log.load(6))!.entries.map((e) => e.command)).toEqual(['c1']);
        await expect(a.log.append(6, f, 1, 'b3', [])).rejects.toThrow(/1 to 1024 commands/);
      });

      it('epoch: when the stream is lost a new epoch starts, and a writer of the old epoch is refused', async () => {
        const a = await node();
        const g = await grant(a, 7, 'a');
        await a.log.open(7, 'OLD');
        await a.log.append(7, { token: g.token, epoch: 'OLD' }, 0, 'b', ['c1', 'c2']);
        await world.lose(7);
        const g2 = await grant(a, 7, 'a2'); // the fence counter was lost too: the token may repeat
        const h = await a.log.open(7, 'NEW');
        expect(h).toEqual({ epoch: 'NEW', head: 0, lastBatch: '' });
        // A writer still on the old epoch (even holding the same token number) writes nothing.
        expect(await code(a.log.append(7, { token: g2.token, epoch: 'OLD' }, 0, 'b', ['stale']))).toBe(ClusterErrorCode.EPOCH_CHANGED);
        const r = await a.log.readAfter(7, 2, 10);
        expect(r).toEqual({ epoch: 'NEW', head: 0, firstKept: 1, entries: [] }); // a reader at OLD/2 sees the change
      });

      it('snapshots bound the replay and trim the log; an older snapshot is ignored; a stale writer cannot snapshot', async () => {
        const a = await node();
        const g = await grant(a, 8, 'a');
        await a.log.open(8, 'E');
        const f = { token: g.token, epoch: 'E' };
        await a.log.append(8, f, 0, 'b', ['c1', 'c2', 'c3', 'c4']);
        await a.log.snapshot(8, f, 3, 'S3', 1); // keep 1 command before it for resuming readers
        await a.log.snapshot(8, f, 2, 'S2', 0);
        const s = await a.log.load(8);
        expect(s!.snapshot).toEqual({ offset: 3, data: 'S3' });
        expect(s!.entries).toEqual([{ offset: 4, command: 'c4' }]);
        const r = await a.log.readAfter(8, 0, 10);
        expect(r!.firstKept).toBe(3); // a reader at 0 knows commands 1..2 are gone: its resume is incomplete
        expect(r!.entries.map((e) => e.offset)).toEqual([3, 4]);
        expect(await code(a.log.snapshot(8, { ...f, token: g.token + 7 }, 4, 'X', 0))).toBe(ClusterErrorCode.FENCED);
        await expect(a.log.snapshot(8, f, 9, 'X', 0)).rejects.toThrow(/offset/);
      });
    });

    describe('membership and bus', () => {
      it('a node is live until its heartbeat runs out, and leaves at once', async () => {
        const a = await node();
        await a.membership.heartbeat('n1');
        await a.membership.heartbeat('n2');
        expect(await a.membership.live()).toEqual(['n1', 'n2']);
        clock.increment(HEARTBEAT_MS - 1);
        await a.membership.heartbeat('n2');
        clock.increment(1);
        expect(await a.membership.live()).toEqual(['n2']);
        await a.membership.leave('n2');
        expect(await a.membership.live()).toEqual([]);
      });

      it('a node channel delivers in order to its subscriber and nowhere else', async () => {
        const a = await node();
        const b = await node();
        const got: string[] = [];
        let done!: () => void;
        const all = new Promise<void>((r) => (done = r));
        const off = await b.bus.subscribe('nb', (m) => {
          got.push(m);
          if (got.length === 20) done();
        });
        expect(await a.bus.publish('nobody', 'x')).toBe(0);
        for (let i = 0; i < 20; i++) expect(await a.bus.publish('nb', `m${i}`)).toBe(1);
        await all;
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
        await off();
        expect(await a.bus.publish('nb', 'late')).toBe(0);
      });
    });

    describe('pushes over an at-most-once bus', () => {
      it('a lost push is filled from the shard stream: every change once, in order; a duplicate is dropped', async () => {
        const owner = await node();
        const receiverSide = await node();
        const g = await grant(owner, 9, 'a');
        await owner.log.open(9, 'E');
        await owner.log.append(9, { token: g.token, epoch: 'E' }, 0, 'b', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
        const got: Array<[number, Delivered]> = [];
        let done!: () => void;
        const sixth = new Promise<void>((r) => (done = r));
        const receiver = new PushReceiver({
          log: receiverSide.log,
          deliver: (_s, offset, item) => {
            got.push([offset, item]);
            if (offset === 6) done();
          },
          resync: () => expect.unreachable('no resync: the history is all there'),
        });
        const handled: Promise<void>[] = [];
        await receiverSide.bus.subscribe('nb', (raw) => {
          const m = parseMessage(raw);
          if (m?.t === 'push') handled.push(receiver.handle(m));
        });
        const dropped = new Set([2, 3]);
        const lossy = { subscribe: owner.bus.subscribe, publish: (n: string, m: string) => (dropped.has((parseMessage(m) as { offset?: number }).offset ?? 0) ? Promise.resolve(1) : owner.bus.publish(n, m)) };
        const sender = new PushSender(lossy);
        for (let o = 1; o <= 6; o++) await sender.send('nb', 9, 'E', o, { change: o });
        await sixth;
        expect(got).toEqual([
          [1, { from: 'push', body: { change: 1 } }],
          [2, { from: 'log', command: 'c2' }],
          [3, { from: 'log', command: 'c3' }],
          [4, { from: 'push', body: { change: 4 } }],
          [5, { from: 'push', body: { change: 5 } }],
          [6, { from: 'push', body: { change: 6 } }],
        ]);
        await receiver.handle({ t: 'push', shard: 9, epoch: 'E', prev: 5, offset: 6, body: {} });
        expect(receiver.duplicates).toBe(1);
        expect(receiver.filled).toBe(2);
        await Promise.all(handled);
      });
    });

    describe('group commit', () => {
      it('the calls of one turn for one shard are one atomic append; each resolves with its own offset', async () => {
        const a = await node();
        const n = new ClusterNode({ id: 'a', backend: a, clock, shards: 1, autoTick: false });
        await n.start();
        const w = n.shard(0)!.writer;
        const before = await world.scriptCalls();
        const offsets = await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(`c${i}`)));
        expect(await world.scriptCalls()).toBe(before + 1);
        expect(offsets).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        // Calls made while that batch was in flight form the next batch, not one call each.
        const first = Promise.all(Array.from({ length: 5 }, (_, i) => w.append(`d${i}`)));
        await new Promise((r) => setImmediate(r));
        const second = Promise.all(Array.from({ length: 5 }, (_, i) => w.append(`e${i}`)));
        await Promise.all([first, second]);
        expect(await world.scriptCalls()).toBeLessThanOrEqual(before + 3);
        expect((await a.log.load(0))!.entries.map((e) => e.command)).toEqual([
          ...Array.from({ length: 50 }, (_, i) => `c${i}`), ...Array.from({ length: 5 }, (_, i) => `d${i}`), ...Array.from({ length: 5 }, (_, i) => `e${i}`),
        ]);
        await n.stop();
      });
    });

    describe('nodes', () => {
      const SHARDS = 8;
      const start = async (id: string, onAcquired?: (s: OwnedShard) => void) => {
        const n = new ClusterNode({ id, backend: await node(), clock, shards: SHARDS, autoTick: false, onAcquired });
        await n.start();
        return n;
      };

      it('every shard gets exactly one owner, its intended one among the live nodes', async () => {
        const nodes = [await start('a'), await start('b'), await start('c')];
        for (const n of nodes) await n.tick();
        const owners = new Map<number, string[]>();
        for (const n of nodes) for (const s of n.view().shards) owners.set(s, [...(owners.get(s) ?? []), n.id]);
        for (let s = 0; s < SHARDS; s++) expect(owners.get(s)).toEqual([ownerOf(s, ['a', 'b', 'c'])]);
        for (const n of nodes) await n.stop();
      });

      it('a frozen owner loses its shards after the lease; the new owner rebuilds them; the old one wakes fenced', async () => {
        const a = await start('a');
        const mine = a.view().shards; // alone: a owns all
        expect(mine).toHaveLength(SHARDS);
        const acked = await a.shard(0)!.writer.append('before-freeze');
        const oldWriter = a.shard(0)!.writer;
        const rebuilt = new Map<number, OwnedShard>();
        const b = await start('b', (s) => rebuilt.set(s.grant.shard, s));
        a.freeze(); // SIGSTOP: no heartbeats, no renewals
        await b.tick();
        expect(b.view().shards).toEqual([]); // a's leases still run
        clock.increment(LEASE_MS);
        await b.tick();
        expect(b.view().shards).toHaveLength(SHARDS);
        expect(rebuilt.get(0)!.state.entries).toEqual([{ offset: acked, command: 'before-freeze' }]);
        // The old owner wakes and writes before it notices anything: the storage refuses it.
        expect(await code(oldWriter.append('after-wake'))).toBe(ClusterErrorCode.FENCED);
        expect(oldWriter.state).toBe('stopped');
        a.thaw();
        await a.tick();
        expect(a.view().shards).toEqual([]);
        expect(await b.shard(0)!.writer.append('new-owner')).toBe(acked + 1);
        expect((await b.shard(0)!.writer.append('again'))).toBe(acked + 2);
        await b.stop();
      });

      it('ticking on the injected clock by itself, a node keeps its leases for many lease periods', async () => {
        const b = await node();
        const n = new ClusterNode({ id: 'a', backend: b, clock, shards: 2 });
        await n.start();
        const token = n.shard(0)!.grant.token;
        for (let i = 0; i < 12; i++) {
          clock.increment(n.tickMs);
          await n.settled();
        }
        const h = await b.lease.holder(0);
        expect(h).toEqual({ node: n.holder, token, expiresAt: n.shard(0)!.grant.expiresAt });
        expect(h!.expiresAt).toBeGreaterThan(clock.now());
        await n.stop();
      });

      it('a second process with the same node id does not share the first one\'s lease or token', async () => {
        const first = await start('a');
        const second = await start('a');
        expect(first.view().shards).toHaveLength(SHARDS);
        expect(second.view().shards).toEqual([]); // same id, another incarnation: the leases are not its
        expect(second.holder).not.toBe(first.holder);
        await first.stop();
        await second.tick();
        expect(second.view().shards).toHaveLength(SHARDS);
        await second.stop();
      });

      it('a stopping node hands its shards over at once, without waiting for the lease', async () => {
        const a = await start('a');
        const taken = new Set<number>();
        let handedOver!: () => void;
        const all = new Promise<void>((r) => (handedOver = r));
        const b = await start('b', (s) => {
          taken.add(s.grant.shard);
          if (taken.size === SHARDS) handedOver();
        });
        await a.tick();
        expect(a.view().shards.length).toBeGreaterThan(0);
        expect(b.view().shards.length).toBeLessThan(SHARDS);
        await a.stop(); // its 'released' messages wake b, which acquires at once: the clock does not move
        await all;
        expect(b.view().shards).toHaveLength(SHARDS);
        await b.stop();
      });
    });
  });
}
