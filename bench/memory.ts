// Part 2 of the benchmarks (a worker process, started by bench/run.ts): heap bytes per registered user and
// per online user (one web device, `subs` subscriptions), for status-engine or the baseline, measured as
// heapUsed after a full GC before and after each step. The user ids exist before the first measurement
// (the app holds them anyway), so the figures are what the engine adds on top of them.
import { BaselineDevice, BaselineEngine } from './baseline';
import type { EngineCore } from '../src/engine/core';
import { coreOf, createEngine } from '../src/engine/engine';
import { args, emitResult, gc, hasGc, progress } from './lib/measure';
import { makeWorld } from './lib/world';

export interface MemoryParams {
  tag: string;
  kind: 'engine' | 'baseline';
  journal: boolean;
  users: number;
  online: number;
  subs: number;
  seed: number;
}

const p = args<MemoryParams>();
const say = progress(p.tag);
if (!hasGc()) throw new Error('the memory benchmark needs node --expose-gc');
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

const w = makeWorld({ users: p.users, active: p.online, subs: p.subs, friends: 0, devices: 1, ops: 0, seed: p.seed, pSet: 1, pLogout: 0 });
const subsOf = (u: number) => Array.from(w.subsOf.subarray(u * p.subs, (u + 1) * p.subs), (t) => w.ids[t]!);
const CHUNK = 100_000;
const sink = () => {};

const h0 = heap();
let keep: unknown;
let h1: number;
let h2: number;
let h3: number;
if (p.kind === 'engine') {
  const engine = createEngine({ switches: { userStatus: true, friendStatusNotify: true }, journal: p.journal });
  const core: EngineCore = coreOf(engine);
  h1 = heap();
  for (let i = 0; i < p.users; i += CHUNK) core.registerUsers(w.ids.slice(i, i + CHUNK));
  h2 = heap();
  say(`registered ${p.users}`);
  const sessions = [];
  for (let u = 0; u < p.online; u++) {
    const s = core.openSession('web', sink);
    sessions.push(s);
    core.login(s, w.ids[u]!);
    if (p.subs > 0) core.subscribe(s, { userIDList: subsOf(u) });
    if ((u + 1) % 250_000 === 0) say(`${u + 1} online`);
  }
  h3 = heap();
  keep = [engine, sessions];
} else {
  const e = new BaselineEngine();
  h1 = heap();
  for (let i = 0; i < p.users; i += CHUNK) e.register(w.ids.slice(i, i + CHUNK));
  h2 = heap();
  const devices = [];
  for (let u = 0; u < p.online; u++) {
    const d = new BaselineDevice(sink);
    devices.push(d);
    e.login(d, w.ids[u]!);
    if (p.subs > 0) e.subscribe(w.ids[u]!, subsOf(u));
  }
  h3 = heap();
  keep = [e, devices];
}
say(`heap: process ${(h0 / 2 ** 20).toFixed(0)} MiB, +empty ${((h1 - h0) / 2 ** 20).toFixed(1)}, +registered ${((h2 - h1) / 2 ** 20).toFixed(0)}, +online ${((h3 - h2) / 2 ** 20).toFixed(0)} MiB`);
emitResult({
  tag: p.tag,
  params: p,
  processHeap: h0,
  emptyBytes: h1 - h0,
  registeredBytes: h2 - h1,
  onlineBytes: h3 - h2,
  perRegistered: (h2 - h1) / p.users,
  perOnline: p.online > 0 ? (h3 - h2) / p.online : 0,
  /** What the engine holds for the whole population (heap after, minus the process before it). */
  totalBytes: h3 - h0,
  heapUsed: h3,
  kept: keep !== undefined,
});
process.exit(0);
