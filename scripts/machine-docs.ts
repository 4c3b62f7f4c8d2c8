// Generates docs/machines.md from the machine definitions themselves: a Mermaid state diagram and a
// transition table per machine. Nothing here is drawn by hand; test/docs/machines-doc.test.ts fails when the
// committed file is out of date.
import { and, not, or, type AnyStateMachine } from 'xstate';
import { accessMachine } from '../machines/access';
import { deviceLinkMachine } from '../machines/deviceLink';
import { flapMachine } from '../machines/flap';
import { rateWindowMachine } from '../machines/rateWindow';
import { subscriptionsMachine } from '../machines/subscriptions';
import { userStatusMachine } from '../machines/userStatus';

type Node = {
  id: string;
  key: string;
  type: string;
  path: string[];
  description?: string;
  parent?: Node;
  states: Record<string, Node>;
  initial?: { target: Node[] };
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  config: { after?: Record<string, unknown>; entry?: unknown; exit?: unknown };
};
type Transition = { target?: Node[]; guard?: unknown; actions: unknown[]; eventType: string; delay?: unknown };

const checkOf = (g: unknown) => (g as { check: unknown }).check;
const COMB = { and: checkOf(and([])), or: checkOf(or([])), not: checkOf(not(() => true)) };

function guardLabel(g: unknown): string {
  if (g === undefined) return '';
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    const f = g as { check?: unknown; guards?: unknown[]; name: string };
    const parts = (f.guards ?? []).map(guardLabel);
    if (f.check === COMB.not) return `!${parts[0]}`;
    if (f.check === COMB.and) return parts.join(' && ');
    if (f.check === COMB.or) return parts.join(' || ');
    return f.name || 'inline';
  }
  return (g as { type: string }).type;
}

function actionLabel(a: unknown): string | null {
  if (typeof a === 'string') return a;
  if (typeof a === 'function') {
    const t = (a as { type?: string }).type;
    return t === 'xstate.raise' || t === 'xstate.cancel' ? null : (t ?? 'inline');
  }
  const o = a as { type: string; params?: Record<string, unknown> };
  return o.params ? `${o.type}(${Object.entries(o.params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')})` : o.type;
}

const list = (xs: unknown): unknown[] => (xs === undefined ? [] : Array.isArray(xs) ? xs : [xs]);
const name = (n: Node) => n.path.join('_') || 'machineRoot'; // not 'root': Mermaid's own id of the diagram, which would hide this state's label
const eventLabel = (t: Transition) => (t.delay !== undefined ? `after ${String(t.delay)}` : t.eventType);

function edges(root: Node) {
  const rows: Array<{ from: Node; event: string; guard: string; to: Node | null; actions: string[] }> = [];
  const visit = (n: Node) => {
    for (const [, ts] of n.transitions) {
      for (const t of ts) {
        rows.push({
          from: n,
          event: eventLabel(t),
          guard: guardLabel(t.guard),
          to: t.target?.[0] ?? null,
          actions: t.actions.map(actionLabel).filter((x): x is string => x !== null),
        });
      }
    }
    for (const t of n.always ?? []) {
      rows.push({ from: n, event: '(always)', guard: guardLabel(t.guard), to: t.target?.[0] ?? null, actions: t.actions.map(actionLabel).filter((x): x is string => x !== null) });
    }
    for (const c of Object.values(n.states)) visit(c);
  };
  visit(root);
  return rows;
}

function mermaid(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const lines = ['stateDiagram-v2', '  direction LR'];
  const declare = (n: Node, indent: string) => {
    const children = Object.values(n.states);
    if (children.length === 0) {
      lines.push(`${indent}state "${n.key}" as ${name(n)}`);
      return;
    }
    lines.push(`${indent}state "${n.key}" as ${name(n)} {`);
    if (n.type === 'parallel') {
      children.forEach((c, i) => {
        if (i > 0) lines.push(`${indent}  --`);
        declare(c, `${indent}  `);
      });
    } else {
      for (const c of children) declare(c, `${indent}  `);
      if (n.initial?.target[0]) lines.push(`${indent}  [*] --> ${name(n.initial.target[0])}`);
    }
    lines.push(`${indent}}`);
  };
  const top = Object.values(root.states);
  if (root.type === 'parallel') declare(root, '  ');
  else {
    for (const c of top) declare(c, '  ');
    if (root.initial?.target[0]) lines.push(`  [*] --> ${name(root.initial.target[0])}`);
  }
  for (const e of edges(root)) {
    if (e.from === root && e.to === null) continue; // machine-wide, listed in the table
    const from = e.from === root ? null : name(e.from);
    const to = e.to ? name(e.to) : from;
    if (!from || !to) continue;
    const label = [e.event, e.guard ? `[${e.guard}]` : ''].filter(Boolean).join(' ');
    lines.push(`  ${from} --> ${to} : ${label.replace(/:/g, '꞉')}`);
  }
  return lines.join('\n');
}

function table(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const out = ['| state | event | guard | target | actions |', '|---|---|---|---|---|'];
  for (const e of edges(root)) {
    const from = e.from === root ? '(any)' : e.from.path.join('.');
    out.push(`| ${from} | ${e.event} | ${e.guard || ''} | ${e.to ? e.to.path.join('.') || '(root)' : '(stays)'} | ${e.actions.join(', ')} |`);
  }
  return out.join('\n');
}

function entries(machine: AnyStateMachine): string {
  const out: string[] = [];
  const visit = (n: Node) => {
    const entry = list(n.config.entry).map(actionLabel).filter(Boolean);
    const desc = n.description ? ` ${n.description}` : '';
    if (n.path.length > 0 && (entry.length > 0 || desc)) {
      out.push(`- **${n.path.join('.')}**:${desc}${entry.length ? ` Entry: ${entry.join(', ')}.` : ''}`);
    }
    for (const c of Object.values(n.states)) visit(c);
  };
  visit(machine.root as unknown as Node);
  return out.join('\n');
}

export const MACHINES: Array<{ machine: AnyStateMachine; file: string; about: string }> = [
  { machine: userStatusMachine, file: 'machines/userStatus.ts', about: "One user's status across its devices (ST, DEV, CS, EXT-1, EXT-2, EXT-5)." },
  { machine: subscriptionsMachine, file: 'machines/subscriptions.ts', about: "One user's subscription list (SUB, UNSUB, EXT-4)." },
  { machine: accessMachine, file: 'machines/access.ts', about: 'The app-wide edition, switches and limits (GATE).' },
  { machine: rateWindowMachine, file: 'machines/rateWindow.ts', about: 'One sliding rate window per user and API (LIM-1, EXT-6).' },
  { machine: deviceLinkMachine, file: 'machines/deviceLink.ts', about: "One device's link and its heartbeat timeout (DEV-2, DEV-3)." },
  { machine: flapMachine, file: 'machines/flap.ts', about: "One user's flap damping: a lost link's change held back from others for the grace (EXT-7)." },
];

export function machineDocs(): string {
  const parts = [
    '# The machines',
    '',
    'Generated from the machine definitions by `npm run docs:machines` (scripts/machine-docs.ts); do not edit by hand.',
    'Each diagram shows every state and transition; the table lists them with guards and actions. The same',
    'definitions open in the Stately editor or inspector (`createEngine({ inspect })`).',
  ];
  for (const { machine, file, about } of MACHINES) {
    parts.push('', `## ${machine.id}`, '', `${about} Source: \`${file}\`.`, '', '```mermaid', mermaid(machine), '```', '');
    const e = entries(machine);
    if (e) parts.push(e, '');
    parts.push(table(machine));
  }
  return `${parts.join('\n')}\n`;
}
