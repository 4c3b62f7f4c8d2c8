// Where the server's time goes, from a `node --cpu-prof` profile cut to a stretch of wall time: each sample
// goes to the nearest frame (from the leaf up) that belongs to a known step (JSON, ws frames, socket writes,
// the engine, the gateways, GC), and what nothing claims is Node's own (timers, streams, the event loop).
import { readFileSync } from 'node:fs';
import type { Profile } from '../lib/cpuprofile';

export interface Breakdown {
  /** Busy time in the stretch (idle excluded), ms. */
  busyMs: number;
  /** The stretch's wall time, ms. */
  wallMs: number;
  steps: Array<{ step: string; share: number }>;
  /** The heaviest functions by self time, for the curious. */
  top: Array<{ fn: string; where: string; share: number }>;
}

type Frame = Profile['nodes'][number]['callFrame'];

const NATIVE: Record<string, string> = {
  parse: 'JSON.parse',
  stringify: 'JSON.stringify',
  writev: 'socket writes (writev, write)',
  writeBuffer: 'socket writes (writev, write)',
  writeUtf8String: 'socket writes (writev, write)',
  writeLatin1String: 'socket writes (writev, write)',
};

function stepOf(cf: Frame): string | null {
  const u = cf.url;
  if (u === '') return NATIVE[cf.functionName] ?? null;
  if (/node_modules\/ws\/lib\/(receiver|buffer-util|validation|permessage)/.test(u)) return 'ws: reading frames';
  if (/node_modules\/ws\/lib\/(sender|websocket)/.test(u)) return 'ws: writing frames';
  if (/\/src\/engine\/|\/machines\/|node_modules\/xstate\//.test(u)) return 'engine (rules, machines, fan-out)';
  if (/\/src\/broker\//.test(u)) return 'broker (delivery to sockets)';
  if (/\/src\/server\/(hub|tim|timGateway|link)|\/src\/protocol\//.test(u)) return 'gateways (our protocol, the SDK\'s), links';
  if (/\/src\//.test(u)) return 'server, other';
  if (/node_modules\/pino/.test(u)) return 'logging';
  return null;
}

export function breakdown(file: string, fromUs: number, toUs: number, top = 12): Breakdown {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const classify = (id: number): string => {
    const seen = memo.get(id);
    if (seen) return seen;
    const leaf = byId.get(id)!.callFrame.functionName;
    let step: string | null = leaf === '(garbage collector)' ? 'GC' : leaf === '(program)' ? 'V8 and native, unattributed' : null;
    for (let x: number | undefined = id; step === null && x !== undefined; x = parent.get(x)) step = stepOf(byId.get(x)!.callFrame);
    step ??= 'Node (timers, streams, event loop)';
    memo.set(id, step);
    return step;
  };
  const steps = new Map<string, number>();
  const self = new Map<number, number>();
  let busy = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = prof.samples[i]!;
    const dt = prof.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    busy += dt;
    const s = classify(id);
    steps.set(s, (steps.get(s) ?? 0) + dt);
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const bySelf = new Map<string, { fn: string; where: string; t: number }>();
  for (const [id, dt] of self) {
    const cf = byId.get(id)!.callFrame;
    // Paths from the project's folders on, wherever the code ran from (bench/run.ts runs a copy).
    const where = cf.url ? `${/(?:^|\/)((?:src|machines|bench|node_modules)\/.*)$/.exec(cf.url.replace(/^file:\/\//, ''))?.[1] ?? cf.url}:${cf.lineNumber + 1}` : '(native)';
    const key = `${cf.functionName} ${where}`;
    const e = bySelf.get(key) ?? { fn: cf.functionName || '(anonymous)', where, t: 0 };
    e.t += dt;
    bySelf.set(key, e);
  }
  return {
    busyMs: busy / 1000,
    wallMs: (toUs - fromUs) / 1000,
    steps: [...steps].sort((a, b) => b[1] - a[1]).map(([step, x]) => ({ step, share: x / busy })),
    top: [...bySelf.values()].sort((a, b) => b.t - a.t).slice(0, top).map((e) => ({ fn: e.fn, where: e.where, share: e.t / busy })),
  };
}
