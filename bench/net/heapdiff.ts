// What a connection costs in the heap: two V8 heap snapshots of one server (before and after N logins),
// objects counted and sized by constructor (or closure, by its function's name and place), the difference
// divided by N. `node --import tsx bench/net/heapdiff.ts before.heapsnapshot after.heapsnapshot N`
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]]; location_fields?: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations?: number[];
}

function tally(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [iType, iName, iSize, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
  const iEdges = f.indexOf('edge_count');
  const ef = s.snapshot.meta.edge_fields;
  const etypes = s.snapshot.meta.edge_types[0];
  const ew = ef.length;
  // Closures are named by where their function is (the snapshot's locations); plain objects by their keys.
  const where = new Map<number, string>();
  const loc = s.locations ?? [];
  for (let i = 0; i < loc.length; i += 4) where.set(loc[i]!, `script ${loc[i + 1]} line ${loc[i + 2]! + 1}`);
  // Each node's first retainer (not a weak edge), to say whose property array, elements or string it is.
  const iTo = ef.indexOf('to_node');
  const owner = new Int32Array(s.nodes.length / width).fill(-1);
  {
    let ee = 0;
    for (let i = 0; i < s.nodes.length; i += width) {
      const n = s.nodes[i + iEdges]!;
      for (let k = 0; k < n; k++) {
        const et = etypes[s.edges[(ee + k) * ew]!];
        const to = s.edges[(ee + k) * ew + iTo]! / width;
        if (et !== 'weak' && owner[to] === -1) owner[to] = i / width;
      }
      ee += n;
    }
  }
  const firstEdge = new Int32Array(s.nodes.length / width + 1);
  for (let j = 0, ee = 0; j < s.nodes.length / width; j++) {
    firstEdge[j] = ee;
    ee += s.nodes[j * width + iEdges]!;
  }
  const iEName = ef.indexOf('name_or_index');
  const edge = (j: number, nm: string): number => {
    for (let k = firstEdge[j]!; k < firstEdge[j]! + s.nodes[j * width + iEdges]!; k++) {
      const et = etypes[s.edges[k * ew]!];
      if (et !== 'element' && et !== 'hidden' && s.strings[s.edges[k * ew + iEName]!] === nm) return s.edges[k * ew + iTo]! / width;
    }
    return -1;
  };
  const scriptOf = (j: number): string => {
    const sh = edge(j, 'shared');
    const sc = sh >= 0 ? edge(sh, 'script') : -1;
    const src = sc >= 0 ? edge(sc, 'name') : -1;
    return src >= 0 ? s.strings[s.nodes[src * width + iName]!]!.replace(/.*\/(src|node_modules)\//, '$1/') : '?';
  };
  const label = (j: number) => `${types[s.nodes[j * width + iType]!]}:${s.strings[s.nodes[j * width + iName]!]!.slice(0, 40)}`;
  const out = new Map<string, { count: number; bytes: number }>();
  let e = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    let name = s.strings[s.nodes[i + iName]!]!;
    const edges = s.nodes[i + iEdges]!;
    const keys: string[] = [];
    if (type === 'object' && (name === 'Object' || name === 'system / Context')) {
      for (let k = 0; k < edges && keys.length < 6; k++) {
        const et = etypes[s.edges[(e + k) * ew]!];
        if (et === 'property' || et === 'context') keys.push(s.strings[s.edges[(e + k) * ew + 1]!]!);
      }
    }
    e += edges;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number') name = '(heap number)';
    else if (type === 'closure') name = `${name || '(anon)'} @${scriptOf(i / width)} ${where.get(i) ?? '?'}`;
    else if (keys.length) name = `${name} {${keys.join(',')}}`;
    if (process.env.OWNERS && (type === 'array' || type === 'hidden' || type === 'string' || type === 'number' || name === 'Array') && owner[i / width]! >= 0) {
      const o = owner[i / width]!;
      name = `${name} of ${label(o)}`;
      // Up through arrays and plain objects to the first named owner (an _events object, a Map's table...).
      for (let up = owner[o]!, hops = 0; up >= 0 && hops < 3; up = owner[up]!, hops++) {
        name += ` of ${label(up)}`;
        const t = types[s.nodes[up * width + iType]!];
        if (t !== 'array' && !/^object:(Object|Array)$/.test(label(up))) break;
      }
    }
    const key = `${type}:${name.slice(0, 80)}`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + iSize]!;
    out.set(key, t);
  }
  return out;
}

const [a, b, n] = [tally(process.argv[2]!), tally(process.argv[3]!), Number(process.argv[4] ?? 1)];
const rows = [...b].map(([k, v]) => ({ k, count: (v.count - (a.get(k)?.count ?? 0)) / n, bytes: (v.bytes - (a.get(k)?.bytes ?? 0)) / n }));
const total = rows.reduce((s, r) => s + r.bytes, 0);
console.log(`heap per connection: ${total.toFixed(0)} B`);
for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(process.env.TOP ?? 60))) console.log(`${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(7)}x  ${r.k}`);
