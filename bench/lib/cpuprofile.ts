// Sums up a V8 CPU profile (node --cpu-prof, or one taken in-process with `profiled`): self time per
// function, and inclusive time of the functions we ask about, as shares of the profiled time. Used for the
// "where the time goes" tables. In-process profiles are mapped back to the TypeScript lines (tsx compiles
// each file to one line, so without that every anonymous function would look alike).
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { relative } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface Profile {
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
  // Paths from the project's folders on, wherever the code ran from (bench/run.ts runs a copy).
  const inProject = /(?:^|\/)((?:src|machines|bench|test|node_modules)\/.*)$/.exec(url)?.[1];
  const where = url ? `${inProject ?? relative(process.cwd(), url)}:${n.callFrame.lineNumber + 1}` : '';
  return { fn: n.callFrame.functionName || '(anonymous)', where };
};

/** Profiles `fn` in this process, sampling every `intervalUs`. */
export async function profiled(fn: () => void | Promise<void>, intervalUs = 200): Promise<Profile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  let profile: Profile;
  try {
    await fn();
  } finally {
    profile = ((await session.post('Profiler.stop')) as unknown as { profile: Profile }).profile;
    session.disconnect();
  }
  return resolveSources(profile);
}

/** Points each frame at its TypeScript line, through the source maps tsx registered in this process. */
export function resolveSources(prof: Profile): Profile {
  for (const n of prof.nodes) {
    const cf = n.callFrame as Node['callFrame'] & { columnNumber?: number };
    if (!cf.url || cf.lineNumber < 0) continue;
    let map;
    try {
      map = findSourceMap(cf.url);
    } catch {
      continue;
    }
    const e = map?.findEntry(cf.lineNumber, cf.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
    if (e?.originalSource && e.originalLine !== undefined) {
      cf.url = e.originalSource;
      cf.lineNumber = e.originalLine;
    }
  }
  return prof;
}

/** Self time per function (shares of all samples), the top `top`; `within` limits to samples under a function. */
export function summarize(source: string | Profile, o: { top?: number; inclusive?: string[]; within?: string } = {}) {
  const prof = typeof source === 'string' ? (JSON.parse(readFileSync(source, 'utf8')) as Profile) : source;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ticks = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    ticks.set(id, (ticks.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const under = (id: number, name: string, nativeOnly = false): boolean => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const cf = byId.get(x)!.callFrame;
      if (cf.functionName === name && (!nativeOnly || cf.url === '')) return true;
    }
    return false;
  };
  let total = 0;
  const self = new Map<string, ProfileLine & { t: number }>();
  const incl = new Map<string, number>();
  for (const [id, t] of ticks) {
    if (o.within && !under(id, o.within)) continue;
    // Waiting for I/O is not work, and `dispatch` (a native frame) is the in-process profiler's own stop
    // call serializing the profile: shares are of the time the thread was busy with the measured code.
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(idle)' || under(id, 'dispatch', true)) continue;
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
