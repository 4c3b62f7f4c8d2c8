// A development tool, not a part of `npm run bench`: the engine's fixed cost per operation, with nothing to
// fan out (10k users, no subscriptions or friends, one web device each, journal on): setSelfStatus alone and
// a logout followed by a login, CPU time per operation, median and min over 10 repeats after 2 of warm-up.
// Run it from two trees one after the other to compare them (`node --expose-gc --import tsx bench/fixed.ts`).
import { coreOf, createEngine } from '../src/engine/engine';
import type { ClientEvent } from '../src/events';
import { gc, median } from './lib/measure';

const n = 10_000;
const engine = createEngine({ switches: { userStatus: true, friendStatusNotify: true }, journal: process.argv[2] !== 'off' });
const core = coreOf(engine);
const ids = Array.from({ length: n }, (_, i) => 'u' + i);
core.registerUsers(ids);
let heard = 0;
const sink = (e: ClientEvent) => {
  if (e.name === 'onUserStatusUpdated') heard += e.data[0]!.version;
};
const sessions = ids.map(() => core.openSession('web', sink));
sessions.forEach((s, i) => core.login(s, ids[i]!));
const cpuUs = (c: NodeJS.CpuUsage, ops: number) => (c.user + c.system) / ops;
let k = 0;
const set: number[] = [];
const pair: number[] = [];
for (let rep = 0; rep < 12; rep++) {
  gc();
  let c0 = process.cpuUsage();
  for (let j = 0; j < 20_000; j++) core.setSelfStatus(sessions[j % n]!, { customStatus: 's' + (k++).toString(36) });
  if (rep >= 2) set.push(cpuUs(process.cpuUsage(c0), 20_000));
  gc();
  c0 = process.cpuUsage();
  for (let j = 0; j < 5000; j++) {
    const u = (j * 7 + rep) % n;
    core.logout(sessions[u]!);
    core.login(sessions[u]!, ids[u]!);
  }
  if (rep >= 2) pair.push(cpuUs(process.cpuUsage(c0), 5000));
}
const f = (xs: number[]) => `median ${median(xs).toFixed(2)} us (min ${Math.min(...xs).toFixed(2)})`;
process.stdout.write(`setSelfStatus ${f(set)}; logout+login ${f(pair)}; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)} (${heard > 0 ? 'heard' : 'nothing heard'})\n`);
await engine.close();
