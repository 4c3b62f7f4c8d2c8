// The guards and actions of a machine compiled into closures over one Work object (src/engine/runner.ts runs
// them): named or inline guards and `and`/`or`/`not`; `assign`, `emit`, delayed `raise` and `cancel` actions,
// with static or dynamic `params`. Anything else throws when the machine is compiled, naming where it is.
import { and, not, or, type AnyStateMachine, type EventObject } from 'xstate';

/** Delayed events, keyed by the id XState gives them; the caller owns the timers. */
export type TimerOp =
  | { op: 'schedule'; id: string; delayMs: number; event: EventObject }
  | { op: 'cancel'; id: string };

/** What guards and actions are called with, as XState calls them ({context, event}); kept current. */
export interface Args {
  context: any;
  event: EventObject;
}
/** One object per transition: the guards' and actions' argument, and what the transition collects. */
export interface Work extends Args {
  /** Whether context is already this transition's own copy (assigns then write into it). */
  owned: boolean;
  /** Made on the first emit or timer: most transitions have neither. */
  emitted: unknown[] | null;
  timers: TimerOp[] | null;
}
export type Action = (w: Work) => void;
export type Guard = (a: Args) => boolean;

/** An assign's first write copies the context; later ones in the same transition reuse that copy. */
function assignInto(w: Work, partial: Record<string, unknown>): void {
  const c = owned(w);
  for (const k in partial) c[k] = partial[k];
}

function addTimer(w: Work, op: TimerOp): void {
  if (w.timers === null) w.timers = [op];
  else w.timers.push(op);
}

/** The transition's own copy of the context, made on its first write. */
function owned(w: Work): Record<string, unknown> {
  if (!w.owned) {
    // One spread of a same-shaped object takes V8's fast clone; the assigned keys are then set by hand.
    w.context = { ...w.context };
    w.owned = true;
  }
  return w.context as Record<string, unknown>;
}

const checkOf = (g: unknown): unknown => (g as { check: unknown }).check;
const COMBINATORS = { and: checkOf(and([])), or: checkOf(or([])), not: checkOf(not(() => true)) };

/** The compilers of one machine's guards and actions, reading its implementations. */
export function compileParts(machine: AnyStateMachine): { compileGuard: (g: unknown) => Guard; compileAction: (a: unknown, where: string) => Action } {
  const impl = machine.implementations as {
    actions: Record<string, unknown>;
    guards: Record<string, unknown>;
    delays: Record<string, unknown>;
  };
const compileGuard = (g: unknown): Guard => {
  if (typeof g === 'string' || (g && typeof g === 'object' && 'type' in (g as object))) {
    const name = typeof g === 'string' ? g : (g as { type: string }).type;
    const params = typeof g === 'string' ? undefined : (g as { params?: unknown }).params;
    const found = impl.guards[name];
    if (found === undefined) throw new Error(`${machine.id}: guard '${name}' is not implemented`);
    if (typeof found === 'function' && !('check' in found)) {
      const fn = found as (a: unknown, p: unknown) => boolean;
      if (typeof params === 'function') return (a) => fn(a, params(a));
      // No params (most guards): the implementation itself, called as (args) (its params are undefined).
      if (params === undefined) return fn as Guard;
      return (a) => fn(a, params);
    }
    return compileGuard(found);
  }
  if (typeof g === 'function') {
    const f = g as ((a: unknown, p: unknown) => boolean) & { check?: unknown; guards?: unknown[] };
    if (f.check !== undefined) {
      const parts = (f.guards ?? []).map(compileGuard);
      if (f.check === COMBINATORS.not) return (a) => !(parts[0] as Guard)(a);
      if (f.check === COMBINATORS.and) return (a) => parts.every((p) => p(a));
      if (f.check === COMBINATORS.or) return (a) => parts.some((p) => p(a));
      throw new Error(`${machine.id}: unsupported guard combinator '${f.name}'`);
    }
    return (a) => f(a, undefined);
  }
  throw new Error(`${machine.id}: unsupported guard ${String(g)}`);
};
const resolveDelay = (delay: unknown, w: Work, params: unknown): number | undefined => {
  const d = typeof delay === 'string' ? impl.delays[delay] : delay;
  const ms = typeof d === 'function' ? d(w, params) : d;
  return typeof ms === 'number' ? ms : undefined;
};
const compileAction = (a: unknown, where: string): Action => {
  let action = a;
  let params: unknown;
  if (typeof a === 'string' || (a && typeof a === 'object')) {
    const name = typeof a === 'string' ? a : (a as { type: string }).type;
    params = typeof a === 'string' ? undefined : (a as { params?: unknown }).params;
    action = impl.actions[name];
    if (action === undefined) throw new Error(`${machine.id}: action '${name}' (${where}) is not implemented`);
  }
  const p = (w: Work) => (typeof params === 'function' ? params(w) : params);
  const builtin = action as {
    type?: string;
    assignment?: unknown;
    event?: unknown;
    delay?: unknown;
    id?: unknown;
    sendId?: unknown;
  };
  switch (builtin.type) {
    case 'xstate.assign': {
      const assignment = builtin.assignment;
      if (typeof assignment === 'function') {
        return (w) => assignInto(w, assignment(w, p(w)));
      }
      const entries = Object.entries(assignment as Record<string, unknown>);
      if (entries.length === 1) {
        // One key (most assigns): its value is computed from the context before the write, as XState
        // does, so no partial object is needed.
        const [key, v] = entries[0] as [string, unknown];
        if (typeof v !== 'function') return (w) => void (owned(w)[key] = v);
        if (params === undefined) {
          // No params (most assigns): no call to work them out.
          const f = v as (w: Work, p: unknown) => unknown;
          return (w) => {
            const value = f(w, undefined);
            owned(w)[key] = value;
          };
        }
        return (w) => {
          const value = v(w, p(w));
          owned(w)[key] = value;
        };
      }
      return (w) => {
        const partial: Record<string, unknown> = {};
        const prm = p(w);
        for (const [key, v] of entries) partial[key] = typeof v === 'function' ? v(w, prm) : v;
        assignInto(w, partial);
      };
    }
    case 'xstate.emit': {
      const ev = builtin.event;
      if (typeof ev === 'function' && params === undefined) {
        const f = ev as (w: Work, p: unknown) => unknown;
        return (w) => {
          const e = f(w, undefined);
          if (w.emitted === null) w.emitted = [e];
          else w.emitted.push(e);
        };
      }
      return (w) => {
        const e = typeof ev === 'function' ? ev(w, p(w)) : ev;
        // A one-element literal: an empty array's first push would reserve room for 17.
        if (w.emitted === null) w.emitted = [e];
        else w.emitted.push(e);
      };
    }
    case 'xstate.raise': {
      const ev = builtin.event;
      const id = builtin.id;
      const delay = builtin.delay;
      if (typeof ev === 'function' || typeof id !== 'string' || delay === undefined) {
        throw new Error(`${machine.id}: only delayed raises with a static event and id are supported (${where})`);
      }
      return (w) => {
        const delayMs = resolveDelay(delay, w, p(w));
        if (delayMs === undefined) throw new Error(`${machine.id}: delay ${String(delay)} did not resolve to a number`);
        addTimer(w, { op: 'schedule', id, delayMs, event: ev as EventObject });
      };
    }
    case 'xstate.cancel': {
      const sendId = builtin.sendId;
      if (typeof sendId !== 'string') throw new Error(`${machine.id}: only static cancel ids are supported (${where})`);
      return (w) => addTimer(w, { op: 'cancel', id: sendId });
    }
    default:
      throw new Error(`${machine.id}: unsupported action ${String(builtin.type ?? action)} (${where})`);
  }
};
  return { compileGuard, compileAction };
}
