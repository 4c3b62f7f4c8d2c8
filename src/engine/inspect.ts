// Lets an XState inspector (the Stately inspector, `@statelyai/inspect`) watch the machines that the engine
// runs on compact records. Each watched machine instance gets a light stand-in actor (ActorRef-shaped, never
// run), registered with its snapshot from before its first step; every step is reported as XState reports
// it (`@xstate.event` with its sourceRef, then `@xstate.snapshot` with a real machine snapshot). Users the
// filter leaves out cost one lookup; a user's stand-ins go when the user has no device left.
import type { AnyActorRef, AnyStateMachine, EventObject, InspectionEvent, Observer } from 'xstate';
import { invalidParameter } from '../errors';
import type { CompiledMachine, RunnerSnapshot } from './runner';

/** The inspection events an inspector receives (XState's InspectionEvent, narrowed for what we send). */
export type InspectionEventLike = InspectionEvent & { actorRef: AnyActorRef; event: EventObject; snapshot?: unknown };

export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Which users are inspected: a list, a RegExp, a glob (`vip-*`), a `/regex/` string, or a predicate. */
export type InspectUsers = readonly string[] | RegExp | string | ((userID: string) => boolean);

/**
 * An inspector that wants the bridge (to send the current actors to a viewer that joins late, see
 * src/server/inspect.ts) carries a function under this key; the bridge hands itself over when it is made.
 */
export const ATTACH_BRIDGE = Symbol.for('status-engine.inspect.attachBridge');

/** What a step may say besides its event and snapshot. All optional, so older call sites keep working. */
export interface StepInfo {
  /** The snapshot before the step: an instance first seen registers with it (not born in its new state). */
  before?: RunnerSnapshot<unknown>;
  /** The user the instance belongs to (needed for device links, whose instance is the device id). */
  userID?: string;
  /** The device whose call caused the step (its link is the sender), when the event does not name it. */
  via?: string;
}

const MAX_PATTERN = 1024;

/** Turns `--inspect-users` / `inspectUsers` into a predicate (a pure function; bad input is a 6017 on `param`). */
export function userFilter(spec: InspectUsers | undefined, param = 'inspectUsers'): (userID: string) => boolean {
  if (spec === undefined) return () => true;
  if (typeof spec === 'function') return (id) => spec(id) === true;
  if (spec instanceof RegExp) {
    const re = new RegExp(spec.source, spec.flags.replace(/[gy]/g, '')); // no lastIndex state between calls
    return (id) => re.test(id);
  }
  if (Array.isArray(spec)) {
    if (!spec.every((s) => typeof s === 'string')) throw invalidParameter(param, 'expected a list of userIDs (strings)');
    const set = new Set(spec as string[]);
    return (id) => set.has(id);
  }
  if (typeof spec !== 'string') throw invalidParameter(param, 'expected a list of userIDs, a RegExp, a pattern string or a function');
  const text = spec.trim();
  if (text.length === 0 || text.length > MAX_PATTERN) throw invalidParameter(param, `expected a list or pattern of 1 to ${MAX_PATTERN} characters`);
  const re = /^\/(.+)\/([imsu]*)$/.exec(text);
  if (re) {
    try {
      return userFilter(new RegExp(re[1]!, re[2]));
    } catch (e) {
      throw invalidParameter(param, `not a valid regular expression: ${(e as Error).message}`);
    }
  }
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const globs = items.filter((s) => /[*?]/.test(s));
  const exact = new Set(items.filter((s) => !/[*?]/.test(s)));
  if (globs.length === 0) return (id) => exact.has(id);
  const escape = (s: string) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const glob = new RegExp(`^(?:${globs.map(escape).join('|')})$`, 's');
  return (id) => exact.has(id) || glob.test(id);
}

/** Checks createEngine's `inspect` and `inspectUsers` (a missing inspector is a mistake worth naming). */
export function checkInspectOptions(o: { inspect?: unknown; inspectUsers?: unknown }): void {
  if ('inspect' in o && (o.inspect === undefined || o.inspect === null)) {
    throw invalidParameter(
      'inspect',
      `is ${o.inspect}: createBrowserInspector() has no window in Node (its .inspect is undefined); in Node use createWebSocketInspector({url}).inspect from @statelyai/inspect, or leave the option out`,
    );
  }
  const inspect = o.inspect as { next?: unknown } | undefined;
  if (inspect !== undefined && typeof inspect !== 'function' && (typeof inspect !== 'object' || typeof inspect.next !== 'function')) {
    throw invalidParameter('inspect', 'expected an inspector: a function, or an observer with next(), e.g. createWebSocketInspector().inspect');
  }
  if (o.inspectUsers !== undefined) {
    if (inspect === undefined) throw invalidParameter('inspectUsers', 'needs the inspect option');
    userFilter(o.inspectUsers as InspectUsers);
  }
}

type ParentRef = { readonly id: string; readonly sessionId: string };

/**
 * An ActorRef-shaped stand-in: enough for inspectors (id, sessionId, logic.config, _parent, getSnapshot), a
 * few hundred bytes instead of a live actor's kilobytes. It never runs: the engine's runner does the work.
 */
class StandIn {
  constructor(
    readonly id: string,
    readonly sessionId: string,
    private readonly runner: CompiledMachine<any, any, any>,
    readonly _parent: ParentRef | undefined,
    /** The compact record (shared with the store): the machine snapshot is made when asked for. */
    public snapshot: RunnerSnapshot<unknown>,
    readonly userID: string,
  ) {}
  get logic(): AnyStateMachine {
    return this.runner.machine;
  }
  get src(): AnyStateMachine {
    return this.runner.machine;
  }
  getSnapshot(): unknown {
    return resolveSnapshot(this.runner, this.snapshot);
  }
  getPersistedSnapshot(): unknown {
    return this.getSnapshot();
  }
  /** A copy frozen at this snapshot: a registration read later (inspectors defer work) still shows it. */
  at(snapshot: RunnerSnapshot<unknown>): StandIn {
    const view = Object.create(this) as StandIn;
    Object.defineProperty(view, 'snapshot', { value: snapshot });
    return view;
  }
  send(): void {}
  start(): void {}
  stop(): void {}
  subscribe(): { unsubscribe(): void } {
    return { unsubscribe() {} };
  }
  on(): { unsubscribe(): void } {
    return { unsubscribe() {} };
  }
  toJSON(): { xstate$$type: number; id: string } {
    return { xstate$$type: 1, id: this.id };
  }
}

/** A real XState snapshot of a runner record (what inspectors show: value, context, status, ...). */
function resolveSnapshot(runner: CompiledMachine<any, any, any>, s: RunnerSnapshot<unknown>): unknown {
  return (runner.machine as AnyStateMachine).resolveState({ value: runner.stateValue(s), context: s.context });
}

interface Watched {
  /** By sessionId: the user's status machine, subscriptions, rate windows and device links. */
  actors: Map<string, StandIn>;
  /** No device logged in, as far as the user's status machine last said (unknown counts as idle). */
  idle: boolean;
  releasing: boolean;
}

export class InspectBridge {
  private readonly send: (e: InspectionEvent) => void;
  private readonly watches: (userID: string) => boolean;
  private readonly users = new Map<string, Watched>();
  /** Device id -> user, for the links of watched users only. */
  private readonly linkOwner = new Map<string, string>();

  constructor(
    inspect: InspectOption,
    private readonly rootId: string,
    users?: InspectUsers,
  ) {
    this.send = typeof inspect === 'function' ? inspect : (e) => inspect.next?.(e);
    this.watches = userFilter(users);
    const attach = (inspect as unknown as Record<symbol, unknown>)[ATTACH_BRIDGE];
    if (typeof attach === 'function') attach.call(inspect, this);
  }

  /** Whether steps of this user are reported (callers may skip building a report for the others). */
  inspects(userID: string): boolean {
    return this.watches(userID);
  }

  /**
   * One step of one machine instance, after it landed. `instance` is the userID (userStatus, subscriptions),
   * `api:userID` (rateWindow) or the device id (deviceLink, with `info.userID`). An event of type
   * `xstate.init` is a reset: the instance starts again from `snapshot`.
   */
  transition(runner: CompiledMachine<any, any, any>, instance: string, event: EventObject, snapshot: RunnerSnapshot<unknown>, info?: StepInfo): void {
    const machine: AnyStateMachine = runner.machine;
    const kind = machine.id;
    const userID = info?.userID ?? this.ownerOf(kind, instance);
    if (userID === undefined || !this.watches(userID)) return;
    const watched = this.users.get(userID) ?? this.track(userID);
    const sessionId = kind === 'deviceLink' ? `deviceLink:${userID}/${instance}` : `${kind}:${instance}`;
    let actor = watched.actors.get(sessionId);
    const reset = event.type === 'xstate.init';
    if (!actor) {
      // The parent is named even before it is registered (a link is reset just before its login step).
      const parentId = `userStatus:${userID}`;
      const parent = kind === 'userStatus' ? undefined : (watched.actors.get(parentId) ?? ({ id: parentId, sessionId: parentId } as ParentRef));
      actor = new StandIn(sessionId, sessionId, runner, parent, reset ? snapshot : (info?.before ?? snapshot), userID);
      watched.actors.set(sessionId, actor);
      if (kind === 'deviceLink') this.linkOwner.set(instance, userID);
      this.register(actor);
      if (reset) return;
    }
    actor.snapshot = snapshot;
    const next = resolveSnapshot(runner, snapshot);
    const actorRef = actor as unknown as AnyActorRef;
    const sourceRef = this.sourceOf(kind, userID, event, actor, info?.via) as unknown as AnyActorRef | undefined;
    this.send({ type: '@xstate.event', actorRef, event, sourceRef, rootId: this.rootId } as InspectionEvent);
    this.send({ type: '@xstate.snapshot', actorRef, event, snapshot: next, rootId: this.rootId } as InspectionEvent);
    if (kind === 'userStatus') this.settle(watched, userID, (snapshot.context as { devices?: Array<{ id: string }> }).devices ?? []);
    if (watched.idle) this.releaseSoon(userID, watched);
  }

  /** The current actors, parents first, as registrations: what a viewer that joins late is sent. */
  current(): InspectionEvent[] {
    const out: InspectionEvent[] = [];
    for (const w of this.users.values()) {
      for (const a of w.actors.values()) out.push(this.registration(a));
    }
    return out;
  }

  /** How many stand-ins are held (for tests and the memory bench). */
  get size(): number {
    let n = 0;
    for (const w of this.users.values()) n += w.actors.size;
    return n;
  }

  private track(userID: string): Watched {
    const w: Watched = { actors: new Map(), idle: true, releasing: false };
    this.users.set(userID, w);
    return w;
  }

  private register(actor: StandIn): void {
    this.send(this.registration(actor));
  }

  private registration(actor: StandIn): InspectionEvent {
    return { type: '@xstate.actor', actorRef: actor.at(actor.snapshot) as unknown as AnyActorRef, rootId: this.rootId } as InspectionEvent;
  }

  private ownerOf(kind: string, instance: string): string | undefined {
    if (kind === 'deviceLink') return this.linkOwner.get(instance);
    if (kind === 'rateWindow') {
      const i = instance.indexOf(':');
      return i < 0 ? instance : instance.slice(i + 1);
    }
    return instance;
  }

  /**
   * Who sent the event, for the inspector's sequence view: a device's calls come through its link, a lost
   * link reports to its user, the user's status machine tells the subscription list of logins and logouts,
   * and a delayed event is the actor's own. Anything else came from outside (an admin call, a socket).
   */
  private sourceOf(kind: string, userID: string, event: EventObject, self: StandIn, via?: string): StandIn | undefined {
    if (event.type.startsWith('xstate.after')) return self;
    const w = this.users.get(userID);
    if (!w) return undefined;
    // A device's call (STATUS.SET, SUB.*): the command names the device, the event does not.
    if (via !== undefined && (kind === 'userStatus' || kind === 'subscriptions')) {
      const link = w.actors.get(`deviceLink:${userID}/${via}`);
      if (link) return link;
    }
    if (kind === 'userStatus') {
      const deviceId = (event as { deviceId?: unknown }).deviceId;
      return typeof deviceId === 'string' ? w.actors.get(`deviceLink:${userID}/${deviceId}`) : undefined;
    }
    if (kind === 'subscriptions' && event.type.startsWith('OWNER.')) return w.actors.get(`userStatus:${userID}`);
    // The flap machine (EXT-7) hears each change of its user's status from the status machine.
    if (kind === 'flap' && event.type === 'STATUS.CHANGED') return w.actors.get(`userStatus:${userID}`);
    return undefined;
  }

  /** After a step of the user's status machine: links of devices it no longer has go; no device, it is idle. */
  private settle(w: Watched, userID: string, devices: ReadonlyArray<{ id: string }>): void {
    w.idle = devices.length === 0;
    const prefix = `deviceLink:${userID}/`;
    for (const [id] of w.actors) {
      if (!id.startsWith(prefix)) continue;
      const deviceId = id.slice(prefix.length);
      if (!devices.some((d) => d.id === deviceId)) {
        w.actors.delete(id);
        this.linkOwner.delete(deviceId);
      }
    }
  }

  /**
   * An idle user's stand-ins go once the command that made it idle is over (its later steps, e.g. the
   * subscription list hearing of the logout, still find their parent). Memory follows the watched users
   * with a device, not everyone who ever logged in.
   */
  private releaseSoon(userID: string, w: Watched): void {
    if (w.releasing) return;
    w.releasing = true;
    queueMicrotask(() => {
      w.releasing = false;
      if (!w.idle || this.users.get(userID) !== w) return;
      for (const id of w.actors.keys()) if (id.startsWith('deviceLink:')) this.linkOwner.delete(id.slice(id.indexOf('/') + 1));
      this.users.delete(userID);
    });
  }
}
