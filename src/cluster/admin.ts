// ClusterAdmin: admin calls from any node, split by shard, run at each shard's owner (this node's engines,
// or forwarded), answered once durable, and merged. `configure` reaches every shard: a command in each
// shard's log, so that a shard taken over later has the settings in its log or snapshot.
import type { AccessContext } from '../../machines/access';
import { parseConfigChange } from '../engine/config';
import { ErrorCode, StatusError, invalidParameter } from '../errors';
import type { JournalEntry, StatusTransition } from '../records';
import type { AdminStatus } from '../types';
import { ClusterError, ClusterErrorCode } from './errors';
import type { ClusterRuntime, Request } from './runtime';
import type { ClusterAdmin, ClusterCounts, UserFacts } from './service';
import type { ShardEngine } from './shardEngine';

const str = (v: unknown, param: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw invalidParameter(param, 'expected a non-empty string');
  return v;
};

export class ClusterAdminImpl implements ClusterAdmin {
  constructor(private readonly rt: ClusterRuntime) {
    rt.serveAdmin = (name, args) => this.serve(name, args.map((a) => (a as { v?: unknown } | null)?.v));
  }

  /** Runs admin call `name` at the owner of `shard` (here, or forwarded there). */
  private at(shard: number, name: string, args: unknown[]): Promise<unknown> {
    if (this.rt.engines.has(shard)) return this.serve(name, args);
    const to = this.rt.ownerOfShard(shard);
    if (to === null || to === this.rt.me) return Promise.reject(new ClusterError(ClusterErrorCode.NOT_OWNER, `shard ${shard} has no owner right now: retry`, { shard }));
    // Each argument boxed, so that an `undefined` crosses JSON as undefined (not as null).
    return this.rt.forwarder.request(to, shard, { op: 'admin', name, args: args.map((v) => ({ v })) } satisfies Request);
  }
  private atUser(userID: string, name: string, args: unknown[]): Promise<unknown> {
    return this.at(this.rt.shardOf(userID), name, args);
  }

  /** The owner's side: one admin call on this node's engine(s), answered once durable. */
  private async serve(name: string, args: unknown[]): Promise<unknown> {
    const engine = (u: unknown): ShardEngine => this.rt.requireEngine(str(u, 'userID'));
    const done = async <T>(e: ShardEngine, v: T): Promise<T> => e.core.acknowledge(v);
    switch (name) {
      case 'registerUsers': {
        const ids = args[0] as string[];
        const e = engine(ids[0]);
        return done(e, e.core.registerUsers(ids));
      }
      case 'hasUser':
        return engine(args[0]).core.hasUser(args[0] as string);
      case 'changeFriends': {
        const [u, ids, add] = args as [string, unknown, boolean];
        const e = engine(u);
        // Its devices start hearing the new friends: what they read of other nodes' users, fetched first.
        if (Array.isArray(ids)) await this.rt.fetch(u, ids as string[]);
        return done(e, e.core.changeFriends(u, ids, add, false));
      }
      case 'configure': {
        const shards = args[1] as number[];
        const missing = shards.filter((s) => !this.rt.engines.has(s));
        const es = shards.map((s) => this.rt.engines.get(s)).filter((e): e is ShardEngine => e !== undefined);
        for (const e of es) e.core.configure(args[0]);
        await Promise.all(es.map((e) => e.store.durable()));
        return missing;
      }
      case 'settings':
        return this.anyEngine().core.settings();
      case 'queryStatus':
        return engine((args[0] as string[])[0]).core.queryStatus(args[0], args[1]);
      case 'explain':
        return engine(args[0]).core.explain(args[0]);
      case 'journal': {
        const e = this.rt.engines.get(args[0] as number);
        if (e === undefined) throw new ClusterError(ClusterErrorCode.NOT_OWNER, `shard ${String(args[0])} is not owned here`);
        return e.core.journal(args[1]);
      }
      case 'userFacts': {
        const e = engine(args[0]);
        const u = args[0] as string;
        const [status] = e.core.queryStatus([u], { detail: true });
        const links = Object.fromEntries((status?.devices ?? []).map((d) => [d.deviceId, e.core.linkStateOf(d.deviceId)]));
        // An unknown user has no detail: the caller turns its status error into the dashboard's 70107.
        return { status: status!, detail: status?.error ? null : e.core.userDetail(u), links };
      }
      case 'counts': {
        // Each shard counted at its owner; online users by a scan of the shard's records (an operator's page,
        // polled: not a hot path), mirror records of other shards' users left out.
        const shards = args[0] as number[];
        let registeredUsers = 0;
        let onlineUsers = 0;
        const missing: number[] = [];
        for (const s of shards) {
          const e = this.rt.engines.get(s);
          if (e === undefined) {
            missing.push(s);
            continue;
          }
          registeredUsers += e.core.userCount();
          for (const u of e.core.onlineUserIDs()) if (this.rt.shardOf(u) === s) onlineUsers++;
        }
        return { registeredUsers, onlineUsers, missing } satisfies ClusterCounts;
      }
      default:
        throw new ClusterError(ClusterErrorCode.NOT_OWNER, `unknown admin call ${name}`);
    }
  }

  private anyEngine(): ShardEngine {
    for (const e of this.rt.engines.values()) return e;
    throw new ClusterError(ClusterErrorCode.NOT_OWNER, 'this node owns no shard right now');
  }

  /** Groups every shard by the node that owns it now (this node's as `me`); `nobody`: shards with no owner. */
  private byOwner(): { by: Map<string, number[]>; nobody: number[] } {
    const by = new Map<string, number[]>();
    const nobody: number[] = [];
    for (let s = 0; s < this.rt.o.shards; s++) {
      const to = this.rt.engines.has(s) ? this.rt.me : this.rt.ownerOfShard(s);
      if (to === null) nobody.push(s);
      else by.set(to, [...(by.get(to) ?? []), s]);
    }
    return { by, nobody };
  }

  private byShard(ids: readonly string[]): Map<number, string[]> {
    const m = new Map<number, string[]>();
    for (const u of ids) {
      const s = this.rt.shardOf(u);
      const l = m.get(s);
      if (l === undefined) m.set(s, [u]);
      else l.push(u);
    }
    return m;
  }

  private static ids(v: unknown, param: string): string[] {
    if (!Array.isArray(v)) throw invalidParameter(param, 'expected an array of userIDs');
    v.forEach((u, i) => str(u, `${param}[${i}]`));
    return v as string[];
  }

  async registerUsers(userIDs: unknown): Promise<void> {
    const ids = ClusterAdminImpl.ids(userIDs, 'userIDs');
    await Promise.all([...this.byShard(ids)].map(([s, part]) => this.at(s, 'registerUsers', [part])));
  }
  async hasUser(userID: string): Promise<boolean> {
    return (await this.atUser(str(userID, 'userID'), 'hasUser', [userID])) === true;
  }
  /** `both`: the reverse edges too, each at its own user's owner (not one atomic command across shards). */
  async changeFriends(userID: unknown, friendIDs: unknown, add: boolean, both = false): Promise<void> {
    const u = str(userID, 'userID');
    const ids = ClusterAdminImpl.ids(friendIDs, 'friendIDs');
    await this.atUser(u, 'changeFriends', [u, ids, add]);
    if (both) await Promise.all(ids.filter((f) => f !== u).map((f) => this.atUser(f, 'changeFriends', [f, [u], add])));
  }
  async configure(change: unknown): Promise<void> {
    parseConfigChange(change, 'change'); // a bad change is refused here, before any shard takes it
    const by = new Map<string, number[]>();
    const nobody: number[] = [];
    for (let s = 0; s < this.rt.o.shards; s++) {
      const to = this.rt.engines.has(s) ? this.rt.me : this.rt.ownerOfShard(s);
      if (to === null) nobody.push(s);
      else by.set(to, [...(by.get(to) ?? []), s]);
    }
    const missed = await Promise.all(
      [...by].map(([to, shards]) =>
        to === this.rt.me ? this.serve('configure', [change, shards]) : this.rt.forwarder.request(to, shards[0]!, { op: 'admin', name: 'configure', args: [{ v: change }, { v: shards }] } satisfies Request),
      ),
    );
    const left = [...nobody, ...missed.flat()] as number[];
    if (left.length > 0) {
      throw new ClusterError(ClusterErrorCode.NOT_OWNER, `shards ${left.join(', ')} had no owner (a takeover in progress); the others took the change: call again`);
    }
  }
  async settings(): Promise<AccessContext> {
    if (this.rt.engines.size > 0) return this.anyEngine().core.settings();
    return (await this.at(0, 'settings', [])) as AccessContext;
  }
  async queryStatus(userIDs: unknown, opts: unknown): Promise<AdminStatus[]> {
    if (!Array.isArray(userIDs)) return this.anyEngine().core.queryStatus(userIDs, opts);
    const ids = userIDs.map((u, i) => str(u, `userIDs[${i}]`));
    const answers = new Map<string, AdminStatus>();
    await Promise.all(
      [...this.byShard(ids)].map(async ([s, part]) => {
        const r = (await this.at(s, 'queryStatus', [part, opts])) as AdminStatus[];
        part.forEach((u, i) => answers.set(u, r[i]!));
      }),
    );
    return ids.map((u) => answers.get(u)!);
  }
  async explain(userID: unknown): Promise<StatusTransition[]> {
    return (await this.atUser(str(userID, 'userID'), 'explain', [userID])) as StatusTransition[];
  }
  async userFacts(userID: unknown): Promise<UserFacts> {
    const u = str(userID, 'userID');
    const facts = (await this.atUser(u, 'userFacts', [u])) as UserFacts;
    if (facts.status.error || facts.detail === null) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${u}' is not registered`, { param: 'userID' });
    return facts;
  }
  /** One admin request per node (its shards listed); a node that does not answer leaves its shards missing. */
  async counts(): Promise<ClusterCounts> {
    const { by, nobody } = this.byOwner();
    const parts = await Promise.all(
      [...by].map(([to, shards]) =>
        (to === this.rt.me
          ? this.serve('counts', [shards])
          : this.rt.forwarder.request(to, shards[0]!, { op: 'admin', name: 'counts', args: [{ v: shards }] } satisfies Request)
        ).then(
          (r) => r as ClusterCounts,
          () => ({ registeredUsers: 0, onlineUsers: 0, missing: shards }),
        ),
      ),
    );
    const out: ClusterCounts = { registeredUsers: 0, onlineUsers: 0, missing: [...nobody] };
    for (const p of parts) {
      out.registeredUsers += p.registeredUsers;
      out.onlineUsers += p.onlineUsers;
      out.missing.push(...p.missing);
    }
    out.missing.sort((a, b) => a - b);
    return out;
  }
  async journal(shard: number, opts?: unknown): Promise<JournalEntry[]> {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.rt.o.shards) throw invalidParameter('shard', `expected an integer from 0 to ${this.rt.o.shards - 1}`);
    return (await this.at(shard, 'journal', [shard, opts])) as JournalEntry[];
  }
}
