// Reads a V8 .cpuprofile (node --cpu-prof) and sums it up: self time per function, and inclusive time of
// the functions we ask about, as shares of the profiled time. Used for the "where the time goes" tables.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  fn: string;
  where: string;
  share: number;
}

const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const where = url ? `${relative(process.cwd(), url)}:${n.callFrame.lineNumber + 1}` : '';
  return { fn: n.callFrame.functionName || '(anonymous)', where };
};

/** Self time per function (shares of all samples), the top `top`; `within` limits to samples under a function. */
export function summarize(file: string, o: { top?: number; inclusive?: string[]; within?: string } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ticks = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    ticks.set(id, (ticks.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const under = (id: number, name: string): boolean => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (byId.get(x)!.callFrame.functionName === name) return true;
    return false;
  };
  let total = 0;
  const self = new Map<string, ProfileLine & { t: number }>();
  const incl = new Map<string, number>();
  for (const [id, t] of ticks) {
    if (o.within && !under(id, o.within)) continue;
    // Waiting for I/O is not work: shares are of the time the thread was busy.
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    total += t;
    const l = label(byId.get(id)!);
    const key = `${l.fn} ${l.where}`;
    const e = self.get(key) ?? { ...l, share: 0, t: 0 };
    e.t += t;
    self.set(key, e);
    for (const name of o.inclusive ?? []) if (under(id, name)) incl.set(name, (incl.get(name) ?? 0) + t);
  }
  const lines = [...self.values()]
    .sort((a, b) => b.t - a.t)
    .slice(0, o.top ?? 20)
    .map(({ fn, where, t }) => ({ fn, where, share: t / total }));
  const inclusive = (o.inclusive ?? []).map((fn) => ({ fn, share: (incl.get(fn) ?? 0) / total }));
  return { totalMs: total / 1000, self: lines, inclusive };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, within, ...inclusive] = process.argv.slice(2);
  console.log(JSON.stringify(summarize(file!, { top: 30, inclusive, within: within || undefined }), null, 1));
}
