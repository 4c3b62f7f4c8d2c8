// Path coverage of the five machines (issue 3.3): @xstate/graph explores each machine from a small table of
// sample events; from its shortest paths we pick one path to every state node and one path through every
// transition (every guarded branch, eventless and delayed ones included). Each path then runs through
// XState's pure initialTransition()/transition(), with the machine's invariants checked after every step,
// and the paths through a delay run again on a live actor driven by a SimulatedClock.
import { isDeepStrictEqual } from 'node:util';
import { getShortestPaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import {
  createActor,
  initialTransition,
  SimulatedClock,
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { accessMachine, type AccessContext, type AccessEvent } from '../../machines/access';
import { deviceLinkMachine, type DeviceLinkEvent } from '../../machines/deviceLink';
import { rateWindowMachine, type RateWindowEvent } from '../../machines/rateWindow';
import { DEFAULT_LIMITS, TYPES, type Platform } from '../../machines/spec';
import { subscriptionsMachine, type SubscriptionsEvent } from '../../machines/subscriptions';
import { userStatusMachine, type DeviceRecord, type UserStatusContext, type UserStatusEvent } from '../../machines/userStatus';

type Snapshot = AnyMachineSnapshot;

/**
 * The invariant checks run on every explored edge (thousands), so they use this cheap deep-equality
 * assertion rather than expect().
 */
function eq(actual: unknown, expected: unknown, what = 'invariant'): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}
function ok(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}
type Def = { source: { id: string }; target?: ReadonlyArray<{ id: string }>; eventType: string; guard?: unknown };
type Emitted = { type: string } & Record<string, unknown>;

interface Spec<E extends EventObject> {
  machine: AnyStateMachine;
  input?: unknown;
  /** The sample events offered in a state (the delayed events of its active states are added). */
  events: (s: Snapshot) => E[];
  /** What makes two snapshots different for the exploration (a finite abstraction). */
  serialize: (s: Snapshot) => string;
  /** The machine's invariants after one step. */
  check: (prev: Snapshot, event: EventObject, next: Snapshot, emitted: Emitted[]) => void;
  /** Milliseconds of each named delay (for the SimulatedClock run). */
  delays?: Record<string, number>;
}

type Node = { id: string; states?: Record<string, unknown>; transitions: Map<string, Def[]>; always?: Def[]; after?: Def[] };
const nodeLists = new WeakMap<AnyStateMachine, Node[]>();
const nodesOf = (machine: AnyStateMachine): Node[] => {
  let all = nodeLists.get(machine);
  if (!all) {
    const found: Node[] = [];
    const walk = (n: any) => {
      found.push(n);
      for (const c of Object.values(n.states ?? {})) walk(c);
    };
    walk(machine.root);
    nodeLists.set(machine, (all = found));
  }
  return all;
};

function allTransitions(machine: AnyStateMachine): Def[] {
  return nodesOf(machine).flatMap((n) => [...[...n.transitions.values()].flat(), ...(n.always ?? [])]);
}

const guardName = (g: unknown): string =>
  g === undefined ? '' : typeof g === 'string' ? g : typeof g === 'function' ? (g as { name?: string }).name || 'fn' : ((g as { type?: string }).type ?? 'guard');
const label = (d: Def) =>
  `${d.source.id} --${d.eventType || '(always)'}${d.guard ? ` [${guardName(d.guard)}]` : ''}--> ${(d.target ?? []).map((t) => t.id).join(',') || '(self)'}`;

const activeIds = (s: Snapshot): string[] => (s as unknown as { _nodes: Array<{ id: string }> })._nodes.map((n) => n.id);

/** The delayed events the snapshot's active states wait for. */
function delayedEvents(machine: AnyStateMachine, s: Snapshot): EventObject[] {
  const active = new Set(activeIds(s));
  return nodesOf(machine)
    .filter((n) => active.has(n.id))
    .flatMap((n) => (n.after ?? []).map((d) => ({ type: d.eventType })));
}

/** Nodes entered through a target: the target and, down its initial states, the children it starts in. */
function entered(node: Node): Node[] {
  const out = [node];
  const kids = Object.values(node.states ?? {}) as Node[];
  if ((node as { type?: string }).type === 'parallel') for (const k of kids) out.push(...entered(k));
  else {
    const initial = (node as { initial?: { target?: Node[] } }).initial?.target;
    for (const t of initial ?? []) out.push(...entered(t));
  }
  return out;
}

/**
 * What one macrostep takes: the event's transitions (XState's own choice, guards evaluated), then the
 * eventless ones of the transient states it entered, told apart by the state they led to.
 */
function taken(machine: AnyStateMachine, external: Def[], next: Snapshot, initial = false): { defs: Def[]; states: string[] } {
  const active = new Set(activeIds(next));
  const targets = initial ? [machine.root as unknown as Node] : external.flatMap((d) => (d.target ?? []) as unknown as Node[]);
  const transients = targets.flatMap(entered).filter((n) => n.always && n.always.length > 0);
  const defs = [...external];
  for (const n of transients) {
    const d = n.always!.find((t) => (t.target ?? []).every((x) => active.has(x.id)));
    if (d) defs.push(d);
  }
  return { defs, states: [...active, ...transients.map((n) => n.id)] };
}

/** One macrostep through the pure transition(): the next snapshot, what it emitted, what it took. */
function step(machine: AnyStateMachine, snapshot: Snapshot, event: EventObject) {
  const [next, actions] = transition(machine, snapshot as never, event as never) as unknown as [Snapshot, Array<{ type: string; params?: unknown }>];
  const external = (machine as unknown as { getTransitionData(s: Snapshot, e: EventObject): Def[] }).getTransitionData(snapshot, event);
  return { next, emitted: emittedOf(actions), ...taken(machine, external, next) };
}

function emittedOf(actions: ReadonlyArray<{ type: string; params?: unknown }>): Emitted[] {
  return actions.filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: Emitted }).event);
}

/** Runs a path of events through the pure functions, checking every step; returns what it covered. */
function runPath<E extends EventObject>(spec: Spec<E>, events: readonly EventObject[]) {
  const { machine } = spec;
  let [snapshot] = initialTransition(machine, spec.input as never) as unknown as [Snapshot, unknown[]];
  const first = taken(machine, [], snapshot, true);
  const covered = { defs: new Set<Def>(first.defs), states: new Set<string>(first.states) };
  const snapshots = [snapshot];
  for (const event of events) {
    const s = step(machine, snapshot, event);
    s.defs.forEach((d) => covered.defs.add(d));
    s.states.forEach((id) => covered.states.add(id));
    spec.check(snapshot, event, s.next, s.emitted);
    snapshot = s.next;
    snapshots.push(snapshot);
  }
  return { covered, snapshots };
}

/** The same path on a live actor whose delays run on a SimulatedClock: each delayed event becomes time passing. */
function runOnClock<E extends EventObject>(spec: Spec<E>, events: readonly EventObject[], pure: Snapshot[]) {
  const clock = new SimulatedClock();
  const actor = createActor(spec.machine, { clock, ...(spec.input !== undefined ? { input: spec.input } : {}) } as never).start();
  events.forEach((event, i) => {
    const delay = /^xstate\.after\.([^.]+)\./.exec(event.type)?.[1];
    if (delay !== undefined) {
      const ms = spec.delays?.[delay];
      expect(ms, `a duration for the delay ${delay}`).toBeTypeOf('number');
      clock.increment(ms! - 1);
      expect(actor.getSnapshot().value, `${delay} fires no earlier than ${ms} ms`).toEqual(pure[i]!.value);
      clock.increment(1);
    } else {
      actor.send(event);
    }
    expect({ value: actor.getSnapshot().value, context: actor.getSnapshot().context }).toEqual({ value: pure[i + 1]!.value, context: pure[i + 1]!.context });
  });
  actor.stop();
}

/**
 * Shortest paths to every explored state (checking the invariants on every edge on the way), then one path
 * per state node and one per transition.
 */
function cover<E extends EventObject>(spec: Spec<E>) {
  const { machine } = spec;
  const offered = (s: Snapshot): EventObject[] => [...spec.events(s), ...delayedEvents(machine, s)];
  const paths = getShortestPaths(machine as never, {
    events: offered as never,
    serializeState: (s: unknown) => spec.serialize(s as Snapshot),
    ...(spec.input !== undefined ? { input: spec.input } : {}),
  } as never) as Array<{ state: Snapshot; steps: Array<{ event: EventObject }> }>;
  const eventsOf = (p: { steps: Array<{ event: EventObject }> }) => p.steps.map((s) => s.event).filter((e) => e.type !== 'xstate.init');

  // For every transition and every state node, the shortest path that ends by taking or entering it.
  const byDef = new Map<Def, EventObject[]>();
  const byState = new Map<string, EventObject[]>();
  const offer = (path: EventObject[], defs: Def[], states: string[]) => {
    for (const d of defs) if (!byDef.has(d) || byDef.get(d)!.length > path.length) byDef.set(d, path);
    for (const id of states) if (!byState.has(id) || byState.get(id)!.length > path.length) byState.set(id, path);
  };
  const start = initialTransition(machine, spec.input as never)[0] as Snapshot;
  const first = taken(machine, [], start, true);
  offer([], first.defs, first.states);
  // The state each path's own events lead to (the graph keeps one snapshot per serialization, maybe
  // another one); a path extends its parent's by one event, so each end is one transition away.
  const ends = new Map<string, Snapshot>([['[]', start]]);
  const endOf = (events: EventObject[]): Snapshot => {
    const key = JSON.stringify(events);
    let end = ends.get(key);
    if (!end) {
      end = transition(machine, endOf(events.slice(0, -1)) as never, events.at(-1) as never)[0] as Snapshot;
      ends.set(key, end);
    }
    return end;
  };
  for (const p of paths) {
    const base = eventsOf(p);
    const end = endOf(base);
    for (const event of offered(end)) {
      const s = step(machine, end, event);
      // Every explored edge, not only the chosen paths, keeps the invariants.
      spec.check(end, event, s.next, s.emitted);
      offer([...base, event], s.defs, s.states);
    }
  }
  return { explored: paths.length, byDef, byState };
}

/** The whole test of one machine: every state node and every transition reached, every path checked. */
function coverageTest<E extends EventObject>(name: string, spec: Spec<E>) {
  let found: ReturnType<typeof cover> | undefined;
  const explore = () => (found ??= cover(spec));

  it(`${name}: the generated paths reach every state node and every transition`, () => {
    const { explored, byDef, byState } = explore();
    const states = nodesOf(spec.machine).map((n) => n.id);
    expect(states.filter((id) => !byState.has(id)), 'state nodes no path reaches').toEqual([]);
    expect(allTransitions(spec.machine).filter((d) => !byDef.has(d)).map(label), 'transitions no path takes').toEqual([]);
    expect(explored).toBeGreaterThan(1);
  });

  it(`${name}: each path runs through transition() with the invariants holding after every step`, () => {
    const { byDef, byState } = explore();
    const runs = new Map<string, EventObject[]>();
    for (const p of [...byDef.values(), ...byState.values()]) runs.set(JSON.stringify(p), p);
    const covered = { defs: new Set<Def>(), states: new Set<string>() };
    for (const path of runs.values()) {
      const { covered: c, snapshots } = runPath(spec, path);
      c.defs.forEach((d) => covered.defs.add(d));
      c.states.forEach((id) => covered.states.add(id));
      if (path.some((e) => e.type.startsWith('xstate.after.'))) runOnClock(spec, path, snapshots);
    }
    // The paths, run for real, cover what the exploration said they would.
    expect(allTransitions(spec.machine).filter((d) => !covered.defs.has(d)).map(label)).toEqual([]);
    expect(nodesOf(spec.machine).map((n) => n.id).filter((id) => !covered.states.has(id))).toEqual([]);
  });
}

// ---- userStatus ----

/** One web device, three iPhones with a cap of 2 (so a kick must tell "the oldest" from the newest). */
const DEVICES: Record<string, Platform> = { w1: 'web', i1: 'ios', i2: 'ios', i3: 'ios' };
const CAP: Record<string, number> = { web: 1, ios: 2 };
const customStatuses = ['', 'busy'];

const userStatusEvents: UserStatusEvent[] = [
  ...Object.entries(DEVICES).flatMap(([deviceId, platform]): UserStatusEvent[] => [
    { type: 'DEVICE.LOGIN', deviceId, platform, cap: CAP[platform]! },
    { type: 'DEVICE.RECONNECT', deviceId, platform, cap: CAP[platform]! },
    { type: 'DEVICE.LOGOUT', deviceId },
    { type: 'DEVICE.DISCONNECT', deviceId, reason: 'link_closed' },
    { type: 'DEVICE.DISCONNECT', deviceId, reason: 'heartbeat_timeout' },
    { type: 'DEVICE.BACKGROUND', deviceId },
    { type: 'DEVICE.FOREGROUND', deviceId },
  ]),
  ...customStatuses.map((customStatus): UserStatusEvent => ({ type: 'STATUS.SET', customStatus })),
  ...(['everyone', 'nobody'] as const).map((visibility): UserStatusEvent => ({ type: 'VISIBILITY.SET', visibility })),
];

const TYPE_OF_STATE: Record<string, number> = {
  registered: TYPES.USER_STATUS_UNLOGINED,
  online: TYPES.USER_STATUS_ONLINE,
  offline: TYPES.USER_STATUS_OFFLINE,
  unlogined: TYPES.USER_STATUS_UNLOGINED,
};

function checkUserStatus(prev: Snapshot, event: EventObject, next: Snapshot, emitted: Emitted[]) {
  const before = prev.context as UserStatusContext;
  const after = next.context as UserStatusContext;
  const top = typeof next.value === 'string' ? next.value : Object.keys(next.value)[0]!;
  // ST-3..6: statusType agrees with the state, and the state with the devices.
  eq(after.statusType, TYPE_OF_STATE[top]);
  const derived = after.devices.some((d) => d.connected) ? 'online' : after.devices.length > 0 ? 'offline' : 'unlogined';
  ok((derived === 'unlogined' ? ['registered', 'unlogined'] : [derived]).includes(top), `ST-4..6 state ${top} with devices saying ${derived}`);
  // DEV-2: a web device is never logged in without its connection.
  eq(after.devices.filter((d) => d.platform === 'web' && !d.connected), []);
  // DEV-4: never more than the cap of a platform; no device twice.
  for (const p of Object.keys(CAP)) ok(after.devices.filter((d) => d.platform === p).length <= CAP[p]!, `DEV-4 the cap of ${p}`);
  eq(new Set(after.devices.map((d) => d.id)).size, after.devices.length);
  // CS-5: OFFLINE has no custom status; UNLOGINED keeps one only while the clearing is pending.
  if (top === 'offline') eq(after.customStatus, '');
  if (next.matches({ unlogined: 'clearPending' } as never)) ok(after.customStatus !== '', 'CS-5 a clearing is pending only for a custom status');
  if (next.matches({ unlogined: 'settled' } as never)) eq(after.customStatus, '');
  // EXT-2: the version grows by one with every announced change, and the last announcement is the status.
  const changes = emitted.filter((e) => e.type === 'status.changed');
  eq(after.version - before.version, changes.length);
  changes.forEach((c, i) => eq(c.version, before.version + i + 1));
  if (changes.length > 0) {
    eq(changes.at(-1), { type: 'status.changed', statusType: after.statusType, customStatus: after.customStatus, version: after.version, reason: after.reason });
  } else {
    // ST-8, CS-7: nothing visible moved.
    eq([after.statusType, after.customStatus, after.visibility], [before.statusType, before.customStatus, before.visibility]);
  }
  // CS-1/CS-2/CS-7: setting a custom status while ONLINE is one change, unless it is the same value.
  if (event.type === 'STATUS.SET' && before.statusType === TYPES.USER_STATUS_ONLINE) {
    const cs = (event as Extract<UserStatusEvent, { type: 'STATUS.SET' }>).customStatus;
    eq(changes.map((c) => [c.customStatus, c.reason]), cs === before.customStatus ? [] : [[cs, cs === '' ? 'custom_status_cleared' : 'custom_status_set']]);
  }
  // CS-5: the delayed clearing is one change of its own.
  if (event.type.startsWith('xstate.after.')) eq(changes.map((c) => [c.customStatus, c.reason]), [['', 'custom_status_expired']]);
  // ST-4, EXT-1: the first login of an UNLOGINED user makes it ONLINE, reason login.
  if (event.type === 'DEVICE.LOGIN' && before.devices.length === 0) eq(changes.map((c) => [c.statusType, c.reason]), [[TYPES.USER_STATUS_ONLINE, 'login']]);
  // DEV-4: a kick names the oldest device of the platform (the paths keep the cap), which is gone afterwards.
  for (const k of emitted.filter((e) => e.type === 'device.kicked')) {
    const platform = (event as Extract<UserStatusEvent, { type: 'DEVICE.LOGIN' }>).platform;
    eq(k.deviceIds, [before.devices.find((d: DeviceRecord) => d.platform === platform)?.id]);
    ok(!after.devices.some((d) => (k.deviceIds as string[]).includes(d.id)), 'DEV-4 the kicked device is gone');
  }
}

// ---- subscriptions ----

const QUOTA = 2;
const subscriptionsEvents: SubscriptionsEvent[] = [
  ...[['a'], ['b'], ['c'], ['a', 'b'], ['a', 'b', 'c']].map((userIDs): SubscriptionsEvent => ({ type: 'SUB.ADD', userIDs, quota: QUOTA })),
  { type: 'SUB.REMOVE', userIDs: ['a'] },
  { type: 'SUB.REMOVE', userIDs: ['z'] },
  { type: 'SUB.REMOVE_ALL' },
  { type: 'OWNER.LOGGED_OUT' },
  { type: 'OWNER.LOGGED_IN' },
];

function checkSubscriptions(prev: Snapshot, event: EventObject, next: Snapshot, emitted: Emitted[]) {
  const before = (prev.context as { list: string[] }).list;
  const list = (next.context as { list: string[] }).list;
  eq(new Set(list).size, list.length, 'SUB-8 no user twice');
  ok(list.length <= QUOTA, 'SUB-8 the quota');
  if (next.value === 'clearPending') ok(list.length > 0, 'UNSUB-5 only a list to clear is pending');
  for (const e of emitted) {
    if (e.type === 'subscriptions.ended') for (const id of e.userIDs as string[]) ok(!list.includes(id), 'EXT-4 an ended subscription is gone');
    if (e.type === 'subscriptions.added') for (const id of e.userIDs as string[]) ok(list.includes(id), 'SUB-1 an added subscription is there');
  }
  if (prev.value === 'clearPending' && !event.type.startsWith('xstate.after.') && event.type !== 'OWNER.LOGGED_IN') {
    // UNSUB-5: while the owner is logged out nothing but its return or the clearing changes the list.
    eq([next.value, list, emitted], ['clearPending', before, []]);
  } else if (event.type === 'SUB.ADD') {
    // SUB-8: the incoming users move to (or join at) the newest places; beyond the quota the earliest go.
    const ids = [...new Set((event as Extract<SubscriptionsEvent, { type: 'SUB.ADD' }>).userIDs)];
    const order = [...before.filter((id) => !ids.includes(id)), ...ids];
    const cut = Math.max(0, order.length - QUOTA);
    eq(list, order.slice(cut));
    const evicted = order.slice(0, cut);
    eq(emitted.filter((e) => e.type === 'subscriptions.ended'), evicted.length > 0 ? [{ type: 'subscriptions.ended', userIDs: evicted, reason: 'subscription_evicted' }] : []);
  }
  else if (event.type === 'SUB.REMOVE_ALL') eq(list, []);
  if (event.type.startsWith('xstate.after.')) {
    eq(list, []);
    eq(emitted, [{ type: 'subscriptions.ended', userIDs: before, reason: 'subscriptions_cleared' }]);
  }
}

// ---- rateWindow ----

const WINDOW = 10;
const rateEvents = (s: Snapshot): RateWindowEvent[] => {
  const stamps = (s.context as { stamps: number[] }).stamps;
  const last = stamps.at(-1) ?? 0;
  return [0, 4, WINDOW].flatMap((gap) => [1, 2].map((requests) => ({ type: 'RATE.REQUEST' as const, now: last + gap, requests, windowMs: WINDOW })));
};

function checkRate(prev: Snapshot, event: EventObject, next: Snapshot, emitted: Emitted[]) {
  const e = event as RateWindowEvent;
  const live = (prev.context as { stamps: number[] }).stamps.filter((t) => t > e.now - e.windowMs);
  const stamps = (next.context as { stamps: number[] }).stamps;
  if (live.length < e.requests) {
    // LIM-1: admitted: the call is counted, and only calls inside the window are kept.
    eq(stamps, [...live, e.now]);
    eq(emitted, []);
    eq(next.value, stamps.length === e.requests ? 'saturated' : 'open');
  } else {
    // LIM-1, EXT-6: refused: nothing counted, and the error says when the oldest blocking call leaves.
    eq(stamps, (prev.context as { stamps: number[] }).stamps);
    eq(next.value, 'saturated');
    eq(emitted, [
      { type: 'rate.refused', retryAfterMs: live[live.length - e.requests]! + e.windowMs - e.now, requests: e.requests, windowMs: e.windowMs },
    ]);
  }
}

// ---- deviceLink ----

const linkEvents: DeviceLinkEvent[] = [{ type: 'LINK.SILENT' }, { type: 'LINK.HEARTBEAT' }, { type: 'LINK.CLOSED' }, { type: 'LINK.OPEN' }];

/** DEV-2/DEV-3: the link's table: where each event leads from each state. */
const LINK: Record<string, Record<string, string>> = {
  live: { 'LINK.SILENT': 'silent', 'LINK.CLOSED': 'closed', 'LINK.HEARTBEAT': 'live', 'LINK.OPEN': 'live' },
  silent: { 'LINK.SILENT': 'silent', 'LINK.CLOSED': 'closed', 'LINK.HEARTBEAT': 'live', 'LINK.OPEN': 'silent', after: 'closed' },
  closed: { 'LINK.SILENT': 'closed', 'LINK.CLOSED': 'closed', 'LINK.HEARTBEAT': 'closed', 'LINK.OPEN': 'live' },
};

function checkLink(prev: Snapshot, event: EventObject, next: Snapshot, emitted: Emitted[]) {
  const delayed = event.type.startsWith('xstate.after.');
  eq(next.value, LINK[prev.value as string]![delayed ? 'after' : event.type]);
  // The device is reported lost exactly when its link closes, with the reason.
  const closes = prev.value !== 'closed' && next.value === 'closed';
  eq(emitted, closes ? [{ type: 'link.lost', reason: delayed ? 'heartbeat_timeout' : 'link_closed' }] : []);
}

// ---- access ----

const accessEvents: AccessEvent[] = [
  ...(['trial', 'pro', 'ultimate'] as const).map((edition): AccessEvent => ({ type: 'CONFIG.CHANGE', edition })),
  ...[true, false].flatMap((v): AccessEvent[] => [
    { type: 'CONFIG.CHANGE', switches: { userStatus: v } },
    { type: 'CONFIG.CHANGE', switches: { friendStatusNotify: v } },
  ]),
  { type: 'CONFIG.CHANGE', limits: { rateLimit: { requests: 7 } } },
  { type: 'CONFIG.CHANGE' },
];

function checkAccess(prev: Snapshot, event: EventObject, next: Snapshot) {
  const before = prev.context as AccessContext;
  const after = next.context as AccessContext;
  const e = event as AccessEvent;
  // GATE-1: a change names only what it changes.
  eq(after.edition, e.edition ?? before.edition);
  eq(after.switches, { ...before.switches, ...e.switches });
  eq(after.limits, { ...before.limits, rateLimit: { ...before.limits.rateLimit, ...e.limits?.rateLimit } });
  // GATE-2/GATE-3: 3122 before 72001; NTF-2(c) on the friend switch alone.
  const gate = after.edition !== 'ultimate' ? 'editionLacks' : !after.switches.userStatus ? 'switchOff' : 'enabled';
  eq(next.value, { userStatus: gate, friendNotify: after.switches.friendStatusNotify ? 'on' : 'off' });
}

describe('path coverage of the machines (@xstate/graph)', () => {
  coverageTest('ST-3 ST-4 ST-5 ST-6 ST-8 DEV-1 DEV-2 DEV-3 DEV-4 CS-2 CS-5 CS-7 EXT-1 EXT-2 EXT-5 userStatus', {
    machine: userStatusMachine,
    events: () => userStatusEvents,
    serialize: (s) => {
      const c = s.context as UserStatusContext;
      // Login order matters within a platform only (DEV-4 kicks its oldest).
      const byPlatform = Object.keys(CAP).map((p) => c.devices.filter((d) => d.platform === p).map((d) => [d.id, d.connected]));
      return JSON.stringify([s.value, byPlatform, c.customStatus, c.visibility]);
    },
    check: checkUserStatus,
    delays: { customStatusClearAfterLogout: DEFAULT_LIMITS.customStatusClearAfterLogoutMs },
  });
  coverageTest('SUB-8 UNSUB-1 UNSUB-2 UNSUB-4 UNSUB-5 EXT-4 subscriptions', {
    machine: subscriptionsMachine,
    events: () => subscriptionsEvents,
    serialize: (s) => JSON.stringify([s.value, (s.context as { list: string[] }).list]),
    check: checkSubscriptions,
    delays: { subscriptionClearAfterLogout: DEFAULT_LIMITS.subscriptionClearAfterLogoutMs },
  });
  coverageTest('LIM-1 EXT-6 rateWindow', {
    machine: rateWindowMachine,
    events: rateEvents,
    serialize: (s) => {
      const stamps = (s.context as { stamps: number[] }).stamps;
      const last = stamps.at(-1) ?? 0;
      return JSON.stringify([s.value, stamps.map((t) => t - last)]);
    },
    check: checkRate,
  });
  for (const platform of ['web', 'ios'] as const) {
    coverageTest(`DEV-2 DEV-3 deviceLink (${platform})`, {
      machine: deviceLinkMachine,
      input: { platform },
      events: () => linkEvents,
      serialize: (s) => JSON.stringify(s.value),
      check: checkLink,
      delays: { heartbeatTimeout: platform === 'web' ? DEFAULT_LIMITS.webHeartbeatTimeoutMs : DEFAULT_LIMITS.nativeHeartbeatTimeoutMs },
    });
  }
  coverageTest('GATE-1 GATE-2 GATE-3 NTF-4 access', {
    machine: accessMachine,
    events: () => accessEvents,
    serialize: (s) => {
      const c = s.context as AccessContext;
      return JSON.stringify([s.value, c.edition, c.switches, c.limits.rateLimit.requests]);
    },
    check: (prev, event, next) => checkAccess(prev, event, next),
  });
});
