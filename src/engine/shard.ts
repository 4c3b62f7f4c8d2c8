// Engines side by side (issue 10 item 5): which users this engine owns, and how it reaches the owner of any
// other. The owner of a user keeps all that user's records, including who listens to it: an edge another
// engine's user makes to one of ours (a subscription, a friend list entry) is mirrored here as a command,
// so that the fan-out of our user's changes finds its whole audience in our own store (NTF-2 b/c).
import type { Broker, LocalDelivery, PeerMessage } from '../broker/types';
import { ErrorCode, StatusError } from '../errors';
import type { Command, UserStatus } from '../records';
import type { Store } from '../store/types';
import { heard, type LocalDevices } from './delivery';
import type { Rules } from './rules/index';
import type { Runners } from './runners';
import type { DeviceSession } from './session';
import type { Settings } from './settings';
import type { StatusSteps } from './status';
import type { Transaction } from './transaction';

type Mirror = Extract<Command, { type: 'edges.mirror' }>;

/**
 * Per device, the version of each user it started from (at login its scope, at a subscription the new
 * targets), apart from what it was handed since: a push handed to a socket that died never arrived, so when
 * a client on a new socket says what it holds, a user it names not falls back to this, not to `heard`.
 * Kept by session (a session may move to another engine of this process).
 */
const started = new WeakMap<DeviceSession, Map<string, number>>();

export class Shard {
  /** Whether this engine owns part of the users only (the `owns` option); false: it owns every user. */
  readonly partial: boolean;
  private status!: StatusSteps;

  constructor(
    readonly owns: (userID: string) => boolean,
    partial: boolean,
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly tx: Transaction,
    private readonly runners: Runners,
    private readonly settings: Settings,
    private readonly rules: Rules,
    private readonly local: LocalDevices,
    private readonly run: (by: string, command: Command) => void,
  ) {
    this.partial = partial;
  }

  /** Attaches this engine's devices to the broker (with the users it owns, and its peer door); returns the detach. */
  attach(): () => void {
    const local = this.local;
    const delivery: LocalDelivery = { one: (u, e, seq, d) => local.deliver(u, e, seq, d), many: (us, e, seq) => local.deliverMany(us, e, seq) };
    if (this.partial) Object.assign(delivery, { owns: this.owns, peer: this.peer });
    const detach = this.broker.attach(delivery);
    return typeof detach === 'function' ? detach : () => {};
  }

  /** Set once the status steps exist (they are made after this part). */
  bind(status: StatusSteps): void {
    this.status = status;
  }

  /** Commands for a user name it; one this engine does not own is refused before anything changes. */
  require(userID: string, param = 'userID'): void {
    if (!this.owns(userID)) throw new StatusError(ErrorCode.NOT_OWNER, `user '${userID}' is owned by another engine: call its owner`, { param });
  }

  private ask(userID: string, message: PeerMessage): unknown {
    if (!this.broker.toOwner) throw new StatusError(ErrorCode.NOT_OWNER, `user '${userID}' is owned by another engine, and the broker cannot reach it`, { param: 'userID' });
    return this.broker.toOwner(userID, message);
  }

  hasUser(userID: string): boolean {
    return this.owns(userID) ? this.store.hasUser(userID) : this.ask(userID, { type: 'hasUser', userID }) === true;
  }

  /** `userID`'s status as `viewer` sees it (EXT-5, issue 17), read at its owner. */
  statusOf(userID: string, viewer: string): UserStatus {
    return this.owns(userID) ? this.status.statusOf(userID, viewer) : (this.ask(userID, { type: 'statusOf', userID, viewer }) as UserStatus);
  }

  /** Whether `viewer` hears of `userID`'s changes now (NTF-2 b/c, NTF-4), as `userID`'s owner knows it. */
  mayHear(viewer: string, userID: string): boolean {
    if (!this.owns(userID)) return this.ask(userID, { type: 'mayHear', userID, viewer }) === true;
    return this.rules.mayHear(viewer, { subscribers: this.store.subscribersOf(userID), followers: this.store.followersOf(userID) }, this.settings.gates);
  }

  /**
   * After the running command lands: the edges our `userID` made to users of other engines, each mirrored at
   * the target's owner. After the commit, never inside it: the owner's store is not ours to roll back, and a
   * command we refused tells no one. (A replay re-applies only our own side: the owner journals its mirror.)
   */
  mirror(edge: Mirror['edge'], userID: string, added: readonly string[], removed: readonly string[]): void {
    if (!this.partial) return;
    const remote = (ids: readonly string[]) => ids.filter((t) => !this.owns(t));
    const add = remote(added);
    const remove = remote(removed);
    if (add.length === 0 && remove.length === 0) return;
    this.tx.afterCommit(() => {
      for (const target of remove) this.ask(target, { type: 'mirror', edge, userID, target, added: false });
      for (const target of add) this.ask(target, { type: 'mirror', edge, userID, target, added: true });
    });
  }

  /**
   * Resume by versions: a device starts from what it would have heard up to now of the users it is given (at
   * login its scope, at a subscription the new targets), so a later resume sends only what moved since.
   */
  startHeard(s: DeviceSession, viewer: string, ids: Iterable<string>, fresh = false): void {
    if (!this.partial) return;
    if (fresh) {
      s.heard = new Map();
      started.delete(s);
    }
    s.heard ??= new Map();
    const known: UserStatus[] = [];
    for (const id of ids) if (this.hasUser(id)) known.push(this.statusOf(id, viewer));
    heard(s.heard, known);
    let from = started.get(s);
    if (from === undefined) started.set(s, (from = new Map()));
    heard(from, known);
  }

  /** The version of `userID` the device started from (see `started`); none: it was given nothing of it. */
  startedFrom(s: DeviceSession, userID: string): number | undefined {
    return started.get(s)?.get(userID);
  }

  /** The users `viewer` starts to listen to (a subscription, a friend list entry), for each of its devices that hears now. */
  listens(viewer: string, ids: readonly string[]): void {
    if (!this.partial || ids.length === 0) return;
    this.tx.afterCommit(() => {
      for (const s of this.local.of(viewer) ?? []) if (s.receiving) this.startHeard(s, viewer, ids);
    });
  }

  /** A message from another engine about one of our users. */
  readonly peer = (m: PeerMessage): unknown => {
    if (!this.owns(m.type === 'mirror' ? m.target : m.userID)) throw new StatusError(ErrorCode.NOT_OWNER, 'a peer message for a user this engine does not own');
    switch (m.type) {
      case 'hasUser':
        return this.store.hasUser(m.userID);
      case 'statusOf':
        return this.status.statusOf(m.userID, m.viewer);
      case 'mayHear':
        return this.mayHear(m.viewer, m.userID);
      case 'mirror':
        return this.run('peer', { type: 'edges.mirror', edge: m.edge, userID: m.userID, target: m.target, added: m.added });
    }
  };

  /** Applies a mirrored edge: the remote user's record here names only our users, and keeps the reverse index. */
  applyMirror(c: Mirror): void {
    if (c.edge === 'friend') {
      if (c.added) this.store.addFriends(c.userID, [c.target]);
      else this.store.removeFriends(c.userID, [c.target]);
      return;
    }
    const rec = this.store.getSubscriptions(c.userID) ?? this.runners.subsInitial;
    const has = rec.context.list.includes(c.target);
    if (has === c.added) return;
    const list = c.added ? [...rec.context.list, c.target] : rec.context.list.filter((t) => t !== c.target);
    this.store.putSubscriptions(c.userID, { ...rec, context: { ...rec.context, list } }, c.added ? { added: [c.target], removed: [] } : { added: [], removed: [c.target] });
  }
}
