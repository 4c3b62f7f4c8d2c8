// Compares the node profiles of two part-8 runs (STATUS_ENGINE_BENCH_CLUSTER_PROF=DIR, DIR/xN/node-PID.cpuprofile)
// per change: each function's and each file's self time summed over the run's nodes, and what the second run spends
// more. A profile's samples are wall time (a descheduled node's next sample carries the wait), so each run's busy
// time is scaled to the node CPU per change part 8 measured (/proc), given on the command line:
// `node --import tsx bench/cluster/profdiff.ts DIR/x1 CPU_US_PER_CHANGE1 DIR/x3 CPU_US_PER_CHANGE3 [top]`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../lib/cpuprofile';

type Tally = { fn: Map<string, number>; file: Map<string, number>; busyUs: number; idleUs: number };

const where = (url: string) => /(?:^|\/)((?:src|machines|bench|test|node_modules)\/.*)$/.exec(url.replace(/^file:\/\//, ''))?.[1] ?? (url || '(native)');

function tally(dir: string): Tally {
  const t: Tally = { fn: new Map(), file: new Map(), busyUs: 0, idleUs: 0 };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const cf = byId.get(p.samples[i]!)!.callFrame;
      const us = p.timeDeltas[i] ?? 0;
      // (idle) is waiting; the native `dispatch` is the inspector serializing the profile at exit.
      if (cf.functionName === '(idle)' || (cf.functionName === 'dispatch' && !cf.url)) {
        t.idleUs += us;
        continue;
      }
      t.busyUs += us;
      const file = where(cf.url);
      const key = `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
      t.fn.set(key, (t.fn.get(key) ?? 0) + us);
      // node_modules by package, the project by file
      const fk = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? (file.startsWith('node:') ? 'node:' + file.slice(5).split('/')[0] : file);
      t.file.set(fk, (t.file.get(fk) ?? 0) + us);
    }
  }
  return t;
}

function diff(a: Map<string, number>, ca: number, b: Map<string, number>, cb: number, top: number) {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((k) => ({ k, a: (a.get(k) ?? 0) / ca, b: (b.get(k) ?? 0) / cb }))
    .sort((x, y) => y.b - y.a - (x.b - x.a))
    .slice(0, top);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [d1, c1, d2, c2, topArg] = process.argv.slice(2);
  const A = tally(d1!);
  const B = tally(d2!);
  // "changes" such that busy / changes = the measured CPU per change
  const [n1, n2, top] = [A.busyUs / Number(c1), B.busyUs / Number(c2), Number(topArg ?? 25)];
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(`CPU µs per change (measured): ${f(A.busyUs / n1)} (${d1}) vs ${f(B.busyUs / n2)} (${d2}): +${(B.busyUs / n2 - A.busyUs / n1).toFixed(1)}`);
  const extra = B.busyUs / n2 - A.busyUs / n1;
  console.log('\nby file / package (µs per change: first, second, difference, share of the difference)');
  for (const r of diff(A.file, n1, B.file, n2, top)) console.log(`${f(r.a)} ${f(r.b)} ${f(r.b - r.a)} ${((100 * (r.b - r.a)) / extra).toFixed(0).padStart(4)}%  ${r.k}`);
  console.log('\nby function');
  for (const r of diff(A.fn, n1, B.fn, n2, top)) console.log(`${f(r.a)} ${f(r.b)} ${f(r.b - r.a)} ${((100 * (r.b - r.a)) / extra).toFixed(0).padStart(4)}%  ${r.k}`);
}
