// Reads of users whose shards other nodes own. The engine's reads of another engine's user (hasUser,
// statusOf, mayHear: src/engine/shard.ts) are synchronous, so a call that needs them is preceded by a fetch
// (ClusterPort.prepare) of exactly those facts from their owners, kept a short while on the injected clock.
// A read that finds nothing fails the call with 75008 NOT_PREPARED instead of blocking or guessing.
import type { Clock } from '../clock';
import { EVENT, type ClientEvent } from '../events';
import type { PeerMessage } from '../broker/types';
import type { UserStatus } from '../records';
import { ClusterError, ClusterErrorCode } from './errors';

/** What one owner says of `user` as `viewer` sees it. */
export interface Fact {
  u: string;
  has: boolean;
  status?: UserStatus;
  hears?: boolean;
}

export class ReadCache {
  private readonly byUser = new Map<string, { has: boolean; until: number }>();
  private readonly byViewer = new Map<string, { fact: Fact; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  put(viewer: string, facts: readonly Fact[]): void {
    const until = this.clock.now() + this.ttlMs;
    for (const f of facts) {
      this.byUser.set(f.u, { has: f.has, until });
      this.byViewer.set(key(viewer, f.u), { fact: f, until });
    }
    if (this.byViewer.size > 100_000) this.sweep();
  }

  /**
   * A change of users pushed to `viewers` on this node: what was fetched of them for those viewers is behind it.
   * A call prepared before the push and run after it (a resume: its session was not receiving, so the push was
   * not handed to it) must read the newer status, or it hands the older one and the change is left behind.
   */
  saw(viewers: readonly string[], event: ClientEvent): void {
    if (this.byViewer.size === 0 || event.name !== EVENT.USER_STATUS_UPDATED || !Array.isArray(event.data)) return;
    const now = this.clock.now();
    for (const s of event.data as UserStatus[]) {
      // put() gives a user's byUser entry the until of its newest fact for any viewer: past it, every fact of the
      // user is one answer() refuses (NOT_PREPARED), so none needs the newer status. One lookup per status
      // instead of one key string and lookup per viewer: the common push (facts fetched at a subscribe, more
      // than readTtlMs ago) costs no more than that.
      const fresh = this.byUser.get(s.userID);
      if (fresh === undefined || fresh.until < now) continue;
      for (const v of viewers) {
        const e = this.byViewer.get(key(v, s.userID));
        if (e?.fact.status !== undefined && e.fact.status.version < s.version) e.fact = { ...e.fact, status: s };
      }
    }
  }

  /** The answer to a peer read, from what was fetched; throws NOT_PREPARED when nothing (still) is. */
  answer(m: Exclude<PeerMessage, { type: 'mirror' }>): unknown {
    const now = this.clock.now();
    if (m.type === 'hasUser') {
      const e = this.byUser.get(m.userID);
      if (e !== undefined && e.until >= now) return e.has;
      throw notPrepared(m.userID);
    }
    const e = this.byViewer.get(key(m.viewer, m.userID));
    if (e === undefined || e.until < now) throw notPrepared(m.userID);
    if (m.type === 'statusOf') {
      if (e.fact.status === undefined) throw notPrepared(m.userID);
      return e.fact.status;
    }
    return e.fact.hears === true;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [k, e] of this.byViewer) if (e.until < now) this.byViewer.delete(k);
    for (const [k, e] of this.byUser) if (e.until < now) this.byUser.delete(k);
  }
}

const key = (viewer: string, user: string) => `${viewer}\u0000${user}`;
const notPrepared = (userID: string) =>
  new ClusterError(ClusterErrorCode.NOT_PREPARED, `user '${userID}' is on another node's shard and was not fetched before this call: prepare it first`);

/** The owner's side: the facts of its users for `viewer`, through each user's engine's peer door. */
export function factsOf(viewer: string, users: readonly string[], peerOf: (userID: string) => ((m: PeerMessage) => unknown) | undefined): Fact[] {
  const out: Fact[] = [];
  for (const u of users) {
    const peer = peerOf(u);
    if (peer === undefined) throw new ClusterError(ClusterErrorCode.NOT_OWNER, `user '${u}': this node does not own its shard (now)`);
    const has = peer({ type: 'hasUser', userID: u }) === true;
    if (!has) {
      out.push({ u, has });
      continue;
    }
    out.push({
      u,
      has,
      status: peer({ type: 'statusOf', userID: u, viewer }) as UserStatus,
      hears: u === viewer ? true : peer({ type: 'mayHear', userID: u, viewer }) === true,
    });
  }
  return out;
}
