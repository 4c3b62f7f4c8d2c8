// Heap snapshots of one `serve` before and after N clients log in (subs 0, heartbeats on, as part 7), for heapdiff.ts.
//   node --import tsx bench/net/snapconn.ts [--target ws|sdk] [--clients 2000] [--out DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Fleet, importUsers, rssBytes, startServer } from './fleet';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const target = (args.get('target') ?? 'ws') as 'ws' | 'sdk';
const clients = Number(args.get('clients') ?? 2000);
const out = resolve(args.get('out') ?? `/tmp/snapconn-${process.pid}`);
const code = resolve(args.get('code') ?? '.');
mkdirSync(out, { recursive: true });
const SECRET = 'snap-secret-of-the-bench';
const SDK_APP_ID = 1_400_000_000;
const preload = join(out, 'snap.mjs');
writeFileSync(preload, `
import { writeHeapSnapshot } from 'node:v8';
import { appendFileSync } from 'node:fs';
let n = 0;
process.on('SIGUSR2', () => {
  globalThis.gc(); globalThis.gc();
  const m = process.memoryUsage();
  if (process.env.SNAP_WRITE !== '0') writeHeapSnapshot(process.env.SNAP_DIR + '/s' + n + '.heapsnapshot');
  appendFileSync(process.env.SNAP_DIR + '/mem.log', 's' + n++ + ' rss=' + m.rss + ' heapUsed=' + m.heapUsed + ' external=' + m.external + ' arrayBuffers=' + m.arrayBuffers + '\\n');
});
`);
process.env.SNAP_DIR = out;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const server = await startServer(code, ['src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--store', 'memory', '--switch', 'userStatus=on', '--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID), '--log-level', 'warn'], { flags: ['--import', preload] });
const snap = async () => {
  const before = readLog().length;
  process.kill(server.pid, 'SIGUSR2');
  while (readLog().length === before) await sleep(200);
  return readLog().at(-1)!;
};
const readLog = () => { try { return readFileSync(join(out, 'mem.log'), 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };
let fleet: Fleet | null = null;
try {
  await importUsers(server.url, { users: clients, secretKey: SECRET, sdkAppId: SDK_APP_ID });
  await sleep(1000);
  const r0 = rssBytes(server.pid);
  console.log(await snap());
  fleet = await Fleet.start(code, 1, { proto: target, url: server.url, users: clients, subs: 0, seed: 7, secretKey: SECRET, sdkAppId: SDK_APP_ID, heartbeatMs: 10_000 });
  await fleet.setup();
  await sleep(12_000); // a few heartbeats each, timers rearmed
  const r1 = rssBytes(server.pid);
  console.log(await snap());
  console.log(`${target} ${clients}: rss ${((r1 - r0) / clients / 1024).toFixed(1)} KiB per connection (before the snapshots' GC)`);
} finally {
  await fleet?.stop();
  await server.stop();
}
