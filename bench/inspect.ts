// What inspection costs (issue 14): a login with inspection off, on for other users (the filter leaves this
// one out), and on for this user (a no-op inspector, and @statelyai/inspect's own converter to JSON as
// `serve --inspect` runs it); and the memory a user's stand-ins hold while online and after it left.
// Figures are ratios against "off", measured in the same run, rounds interleaved.
//
//   node --expose-gc --import tsx bench/inspect.ts [--users 500] [--rounds 15] [--mem-users 10000]
// On a shared machine the minimum over rounds is the steadier figure; the median is printed beside it.
import { performance } from 'node:perf_hooks';
import { createInspector } from '@statelyai/inspect';
import { createClient, createEngine, type Client, type EngineOptions } from '../src/index';
import { coreOf } from '../src/engine/engine';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const USERS = arg('users', 500);
const ROUNDS = arg('rounds', 15);
/** Memory is measured on more users, so that a user's bytes stand out of the heap's noise. */
const MEM_USERS = arg('mem-users', 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

let converted = 0;
const converter = createInspector({ send: (e: unknown) => void (JSON.stringify(e).length > 0 && converted++), start() {}, stop() {} });
/** setTimeout(0) deferrals of the converter: wait until they all ran. */
const drain = async () => {
  for (let last = -1; last !== converted; ) {
    last = converted;
    await new Promise((r) => setTimeout(r, 0));
  }
};

type Mode = 'off' | 'others' | 'this user' | 'this user, JSON';
const options = (mode: Mode): EngineOptions => {
  if (mode === 'off') return {};
  if (mode === 'others') return { inspect: () => {}, inspectUsers: 'vip-*' };
  if (mode === 'this user') return { inspect: () => {} };
  return { inspect: converter.inspect };
};

async function world(mode: Mode, users = USERS) {
  const engine = createEngine({ switches: { userStatus: true }, journal: false, ...options(mode) });
  const ids = Array.from({ length: users }, (_, i) => `u${i}`);
  await engine.registerUsers(ids);
  const clients: Client[] = ids.map(() => createClient({ engine }));
  return { engine, ids, clients };
}

async function timeLogins(mode: Mode): Promise<number> {
  const w = await world(mode);
  const t0 = performance.now();
  for (let i = 0; i < USERS; i++) await w.clients[i]!.login({ userID: w.ids[i]! });
  if (mode === 'this user, JSON') await drain();
  const ns = ((performance.now() - t0) * 1e6) / USERS;
  await w.engine.close();
  return ns;
}

async function heap(): Promise<number> {
  await drain();
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

async function memory(mode: Mode): Promise<{ online: number; left: number; standIns: number; standInsAfter: number }> {
  const USERS = MEM_USERS;
  const w = await world(mode, USERS);
  const bridge = (coreOf(w.engine) as unknown as { inspector: { size: number } | null }).inspector;
  const before = await heap();
  for (let i = 0; i < USERS; i++) await w.clients[i]!.login({ userID: w.ids[i]! });
  const online = await heap();
  const standIns = bridge?.size ?? 0;
  for (let i = 0; i < USERS; i++) await w.clients[i]!.logout();
  const left = await heap();
  const standInsAfter = bridge?.size ?? 0;
  await w.engine.close();
  return { online: (online - before) / USERS, left: (left - before) / USERS, standIns, standInsAfter };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MODES: Mode[] = ['off', 'others', 'this user', 'this user, JSON'];

async function main() {
  console.log(`inspection cost: ${USERS} logins a round, ${ROUNDS} rounds; memory over ${MEM_USERS} users; node ${process.version}`);
  for (const m of MODES) await timeLogins(m); // warm-up
  const times = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < ROUNDS; r++) for (const m of MODES) times.get(m)!.push(await timeLogins(m));
  const base = median(times.get('off')!);
  const min = (xs: number[]) => Math.min(...xs);
  const baseMin = min(times.get('off')!);
  console.log('\nlogin (µs per login: min and median over rounds, and each as a ratio to off)');
  for (const m of MODES) {
    const v = median(times.get(m)!);
    const lo = min(times.get(m)!);
    console.log(`  ${m.padEnd(18)} min ${(lo / 1000).toFixed(1).padStart(7)} µs  x${(lo / baseMin).toFixed(2)}    median ${(v / 1000).toFixed(1).padStart(7)} µs  x${(v / base).toFixed(2)}`);
  }
  console.log('\nmemory (bytes per user, heap after gc; stand-ins held)');
  const mem = new Map<Mode, Awaited<ReturnType<typeof memory>>>();
  for (const m of ['off', 'this user'] as Mode[]) mem.set(m, await memory(m));
  const off = mem.get('off')!;
  for (const [m, v] of mem) {
    console.log(
      `  ${m.padEnd(18)} online ${v.online.toFixed(0).padStart(6)} B (+${(v.online - off.online).toFixed(0)} B)   after logout ${v.left.toFixed(0).padStart(6)} B (+${(v.left - off.left).toFixed(0)} B)   stand-ins ${v.standIns} -> ${v.standInsAfter}`,
    );
  }
}

void main();
