// Runs an XState machine definition on plain `{value, context}` records at the speed of a hand-written
// reducer. XState's own `transition()` costs ~18 µs an event and a live actor ~2.8 KB; the engine holds a
// million users, so it compiles each machine once into closures and keeps only a compact record per user.
// The machine stays the single source of behaviour: this file knows no states, events or rules of its own,
// and test/machines/runner-equivalence.test.ts proves that it agrees with XState on random event sequences.
//
// Supported subset (compileMachine throws on anything else, so a machine cannot silently outgrow it):
// atomic and compound states (no parallel, history or final states, no invoke); `on`, `always`, `after`
// with named or numeric delays; `entry`/`exit`; guards by name, inline, or `and`/`or`/`not`; actions
// `assign` and `emit` (by name or inline, with static or dynamic `params`).
import type { AnyStateMachine, EventObject, StateValue } from 'xstate';

import type { RunnerSnapshot } from '../records';
import { compileParts, type Action, type Args, type Guard, type TimerOp, type Work } from './runnerParts';

export type { RunnerSnapshot, TimerOp };

export interface RunnerStep<C, Em> {
  snapshot: RunnerSnapshot<C>;
  /** Events the machine emitted, in order. */
  emitted: readonly Em[];
  timers: readonly TimerOp[];
  /** False when the event selected no transition at all: nothing ran, the snapshot is the same object. */
  handled: boolean;
}

type AnyNode = {
  id: string;
  key: string;
  type: string;
  order: number;
  path: string[];
  parent?: AnyNode;
  states: Record<string, AnyNode>;
  initial?: { target: AnyNode[]; actions: unknown[] };
  transitions: Map<string, AnyTransition[]>;
  always?: AnyTransition[];
  entry: unknown[];
  exit: unknown[];
  invoke: unknown[];
};
type AnyTransition = {
  target?: AnyNode[];
  source: AnyNode;
  guard?: unknown;
  actions: unknown[];
  reenter: boolean;
};

interface CNode {
  id: string;
  /** The key path below the machine, e.g. 'unlogined.settled'. */
  key: string;
  order: number;
  parent: CNode | null;
  path: string[];
  initialChild: CNode | null;
  initialActions: Action[];
  on: Map<string, CTransition[]>;
  always: CTransition[] | null;
  entry: Action[];
  exit: Action[];
  /**
   * For a leaf: every transition an event type may select, from the leaf up (document order within a state),
   * and every eventless one likewise: selecting is then one lookup and one walk of a short list.
   */
  select: Map<string, CTransition[]>;
  alwaysUp: CTransition[] | null;
}
interface CTransition {
  source: CNode;
  guard: Guard | null;
  actions: Action[];
  /** Undefined for a targetless transition (actions only, nothing exited or entered). */
  target?: CNode;
  /** The states below which everything is exited; entered are `enter`, outermost first. */
  domain?: CNode;
  exitDomain?: boolean;
  enter?: CNode[];
}

const MAX_MICROSTEPS = 100;
/** What an unhandled event returns: nothing emitted, no timers (shared, never written). */
const NONE: readonly never[] = Object.freeze([]);
/** What the reused Work holds between transitions. */
const NO_EVENT: EventObject = Object.freeze({ type: '' });
export class CompiledMachine<C, E extends EventObject, Em = EventObject> {
  readonly machine: AnyStateMachine;
  private readonly nodes = new Map<string, CNode>();
  private readonly root: CNode;

  constructor(machine: AnyStateMachine) {
    this.machine = machine;
    const { compileGuard, compileAction } = compileParts(machine);

    // First pass: one CNode per state node.
    const raws = new Map<string, AnyNode>();
    const visit = (n: AnyNode, parent: CNode | null): CNode => {
      if (n.type === 'parallel' || n.type === 'history' || n.type === 'final') {
        throw new Error(`${machine.id}: ${n.type} state '${n.id}' is not supported by the runner`);
      }
      if (n.invoke.length > 0) throw new Error(`${machine.id}: invoke in '${n.id}' is not supported by the runner`);
      const c: CNode = {
        id: n.id,
        key: n.path.join('.'),
        order: n.order,
        parent,
        path: n.path,
        initialChild: null,
        initialActions: [],
        on: new Map(),
        always: null,
        entry: n.entry.map((a) => compileAction(a, `${n.id} entry`)),
        exit: n.exit.map((a) => compileAction(a, `${n.id} exit`)),
        select: new Map(),
        alwaysUp: null,
      };
      this.nodes.set(n.id, c);
      raws.set(n.id, n);
      for (const child of Object.values(n.states)) visit(child, c);
      return c;
    };
    const rootNode = machine.root as unknown as AnyNode;
    this.root = visit(rootNode, null);

    // Second pass: transitions, now that every target exists.
    const node = (n: AnyNode): CNode => this.nodes.get(n.id) as CNode;
    const compileTransition = (t: AnyTransition, where: string): CTransition => {
      const source = node(t.source);
      const ct: CTransition = {
        source,
        guard: t.guard === undefined ? null : compileGuard(t.guard),
        actions: t.actions.map((a) => compileAction(a, where)),
      };
      if (t.target && t.target.length > 0) {
        if (t.target.length > 1) throw new Error(`${machine.id}: multiple targets (${where}) are not supported`);
        const target = node(t.target[0] as AnyNode);
        ct.target = target;
        // The transition domain, as SCXML and XState define it.
        let domain: CNode;
        if (!t.reenter && isSelfOrDescendant(target, source)) domain = source;
        else domain = leastCommonProperAncestor(source, target) ?? this.root;
        ct.domain = domain;
        ct.exitDomain = t.reenter && source === domain;
        const enter: CNode[] = [];
        for (let s: CNode | null = target; s && s !== domain; s = s.parent) enter.unshift(s);
        if (ct.exitDomain) enter.unshift(domain);
        ct.enter = enter;
      }
      return ct;
    };
    for (const [id, c] of this.nodes) {
      const raw = raws.get(id) as AnyNode;
      if (raw.initial && raw.initial.target.length > 0) {
        c.initialChild = node(raw.initial.target[0] as AnyNode);
        c.initialActions = raw.initial.actions.map((a) => compileAction(a, `${id} initial`));
      }
      for (const [eventType, list] of raw.transitions) {
        if (eventType.includes('*')) throw new Error(`${machine.id}: wildcard transitions are not supported`);
        c.on.set(eventType, list.map((t) => compileTransition(t, `${id} on ${eventType}`)));
      }
      if (raw.always && raw.always.length > 0) {
        c.always = raw.always.map((t) => compileTransition(t, `${id} always`));
      }
    }
    // Third pass: each state's selection tables, its own transitions first, then its ancestors'.
    for (const c of this.nodes.values()) {
      const always: CTransition[] = [];
      for (let n: CNode | null = c; n; n = n.parent) {
        for (const [type, list] of n.on) {
          const up = c.select.get(type);
          if (up) up.push(...list);
          else c.select.set(type, [...list]);
        }
        if (n.always) always.push(...n.always);
      }
      c.alwaysUp = always.length > 0 ? always : null;
    }
  }

  /** The first snapshot: context from the machine's `context` (with `input`), initial states entered. */
  initial(input?: unknown): RunnerStep<C, Em> {
    const cfg = this.machine.config as { context?: unknown };
    const context =
      typeof cfg.context === 'function' ? cfg.context({ input, self: undefined, spawn: undefined }) : cfg.context;
    const init = { type: 'xstate.init', input } as EventObject;
    const w: Work = { context, event: init, owned: false, emitted: null, timers: null };
    let leaf = this.root;
    for (const a of this.root.entry) a(w);
    leaf = this.enterDefault(this.root, w);
    leaf = this.settle(leaf, w);
    return { snapshot: { value: leaf.id, context: w.context }, emitted: (w.emitted ?? NONE) as Em[], timers: w.timers ?? NONE, handled: true };
  }

  /**
   * One event, run to completion (the event's microstep, then every eventless transition it enables). The
   * answer is one object per machine, filled again by its next transition: read what you need of it first
   * (its snapshot, lists and timers are fresh each time and may be kept).
   */
  transition(snapshot: RunnerSnapshot<C>, event: E | EventObject): RunnerStep<C, Em> {
    let leaf = this.nodes.get(snapshot.value);
    if (!leaf) throw new Error(`${this.machine.id}: unknown state '${snapshot.value}'`);
    // One Work object per machine, filled again for each transition: guards and actions are the machine's
    // pure functions, so no transition of this machine starts inside another one.
    const w = this.work;
    w.context = snapshot.context;
    w.event = event;
    w.owned = false;
    w.emitted = null;
    w.timers = null;
    const chosen = this.selectOn(leaf, w);
    const out = this.out;
    if (!chosen) {
      w.context = null;
      out.snapshot = snapshot;
      out.emitted = NONE;
      out.timers = NONE;
      out.handled = false;
      return out;
    }
    leaf = this.microstep(leaf, chosen, w);
    leaf = this.settle(leaf, w);
    const context = w.context;
    const next = leaf.id === snapshot.value && context === snapshot.context ? snapshot : { value: leaf.id, context };
    const emitted = (w.emitted as unknown[] | null) ?? NONE;
    const timers = (w.timers as TimerOp[] | null) ?? NONE;
    // It keeps nothing of this transition alive (the last context stays until the next one: one per machine).
    w.event = NO_EVENT;
    w.emitted = w.timers = null;
    out.snapshot = next;
    out.emitted = emitted as Em[];
    out.timers = timers;
    out.handled = true;
    return out;
  }
  private readonly work: Work = { context: null, event: NO_EVENT, owned: false, emitted: null, timers: null };
  /** The answer of transition(), one per machine (see there). */
  private readonly out: RunnerStep<C, Em> = { snapshot: { value: '', context: null as C }, emitted: NONE, timers: NONE, handled: false };

  /** The XState state value of a snapshot, e.g. `{ unlogined: 'clearPending' }`. */
  stateValue(snapshot: RunnerSnapshot<C>): StateValue {
    const leaf = this.nodes.get(snapshot.value);
    if (!leaf) throw new Error(`${this.machine.id}: unknown state '${snapshot.value}'`);
    let v: StateValue = leaf.path[leaf.path.length - 1] as string;
    for (let i = leaf.path.length - 2; i >= 0; i--) v = { [leaf.path[i] as string]: v };
    return v;
  }

  /**
   * A delayed event's names as the machine gives them: XState types an `after` event
   * `xstate.after.<delay>.<state id>`; durable timers are stored by delay and state path instead (item 4).
   */
  afterNames(eventType: string): { delay: string; state: string } {
    // Each machine has a few delayed events: their names are worked out once (the answer is shared, read-only).
    let names = this.afterCache.get(eventType);
    if (names === undefined) this.afterCache.set(eventType, (names = Object.freeze(this.parseAfter(eventType))));
    return names;
  }
  private readonly afterCache = new Map<string, { delay: string; state: string }>();
  private parseAfter(eventType: string): { delay: string; state: string } {
    const prefix = 'xstate.after.';
    const rest = eventType.startsWith(prefix) ? eventType.slice(prefix.length) : '';
    const dot = rest.indexOf('.');
    const stateId = rest.slice(dot + 1);
    if (dot <= 0 || !this.nodes.has(stateId)) throw new Error(`${this.machine.id}: '${eventType}' is not a delayed event of this machine`);
    return { delay: rest.slice(0, dot), state: stateId.slice(this.machine.id.length + 1) };
  }

  /** The delayed event of `delay` in the state at key path `state` (the inverse of afterNames). */
  afterEvent(delay: string, state: string): EventObject {
    return { type: `xstate.after.${delay}.${this.machine.id}.${state}` };
  }

  /** The leaf's key path: `'unlogined.settled'` (one string per state, made once). */
  pathOf(snapshot: RunnerSnapshot<C>): string {
    return this.nodes.get(snapshot.value)?.key ?? snapshot.value.slice(this.machine.id.length + 1);
  }

  /** The first enabled transition for the event, from the leaf up (document order within a state). */
  private selectOn(leaf: CNode, a: Args): CTransition | undefined {
    const list = leaf.select.get(a.event.type);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const t = list[i] as CTransition;
      if (t.guard === null || t.guard(a)) return t;
    }
    return undefined;
  }

  /** The first enabled eventless transition, from the leaf up. */
  private selectAlways(leaf: CNode, a: Args): CTransition | undefined {
    const list = leaf.alwaysUp;
    if (list === null) return undefined;
    for (let i = 0; i < list.length; i++) {
      const t = list[i] as CTransition;
      if (t.guard === null || t.guard(a)) return t;
    }
    return undefined;
  }

  private microstep(leaf: CNode, t: CTransition, w: Work): CNode {
    if (!t.target) {
      for (const a of t.actions) a(w);
      return leaf;
    }
    const domain = t.domain as CNode;
    for (let s: CNode | null = leaf; s && s !== domain; s = s.parent) for (const a of s.exit) a(w);
    if (t.exitDomain) for (const a of domain.exit) a(w);
    for (const a of t.actions) a(w);
    for (const s of t.enter as CNode[]) for (const a of s.entry) a(w);
    return this.enterDefault(t.target, w);
  }

  /** Enter the initial descendants of `n` (outermost first), returning the leaf reached. */
  private enterDefault(n: CNode, w: Work): CNode {
    let s = n;
    while (s.initialChild) {
      for (const a of s.initialActions) a(w);
      s = s.initialChild;
      for (const a of s.entry) a(w);
    }
    return s;
  }

  private settle(leaf: CNode, w: Work): CNode {
    for (let i = 0; i < MAX_MICROSTEPS; i++) {
      const t = this.selectAlways(leaf, w);
      if (!t) return leaf;
      leaf = this.microstep(leaf, t, w);
    }
    throw new Error(`${this.machine.id}: eventless transitions did not settle after ${MAX_MICROSTEPS} steps`);
  }
}

function isSelfOrDescendant(n: CNode, ancestor: CNode): boolean {
  for (let s: CNode | null = n; s; s = s.parent) if (s === ancestor) return true;
  return false;
}

function leastCommonProperAncestor(a: CNode, b: CNode): CNode | undefined {
  for (let s = a.parent; s; s = s.parent) if (isSelfOrDescendant(b, s)) return s;
  return undefined;
}
