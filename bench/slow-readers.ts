// Issue 9 #4, measured: `/healthz` latency while 50 subscribers stop reading under a status load, and after
// the server has cut them, against the same load with no slow reader (the baseline, same run). Also the
// server's RSS and how long the cut took. The server is the real process (`serve --store memory`).
//
//   node --import tsx bench/slow-readers.ts [--slow 50] [--status-bytes 4000] [--phase-ms 8000] [--root DIR]
// --root runs another checkout's server (e.g. the previous release) under the same load, for comparison.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { genUserSig } from '../src/server/usersig';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rootAt = process.argv.indexOf('--root');
const ROOT = rootAt > 0 ? path.resolve(process.argv[rootAt + 1]!) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SLOW = arg('slow', 50);
const READERS = 10;
const PUBLISHERS = 5;
const STATUS_BYTES = arg('status-bytes', 4000);
const PHASE_MS = arg('phase-ms', 8000);
const SDK_APP_ID = 1400000000;
const HEALTH_TIMEOUT_MS = 30_000;
const progress = (msg: string) => process.stderr.write(`[slow-readers] ${msg}\n`);
const SECRET = 'bench-secret-0123456789abcdef0123';

const sig = (id: string) => genUserSig({ sdkAppId: SDK_APP_ID, secretKey: SECRET, identifier: id, expireSeconds: 3600 });
/** /healthz gives its counts to the administrator only (the admin proof in the query). */
const HEALTH_PROOF = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator') }).toString();

async function startServer(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const args = ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--store', 'memory', '--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID)];
  args.push('--switch', 'userStatus=on', '--limit', `customStatusMaxBytes=${STATUS_BYTES + 16}`, '--log-level', 'error');
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { url, pid: proc.pid!, stop: async () => void (proc.kill('SIGTERM'), await exited) };
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface Client {
  ws: WebSocket;
  call(op: string, params?: unknown): Promise<any>;
  pushes: number;
}

async function client(base: string, userID: string): Promise<Client> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?v=1`, { perMessageDeflate: false });
  const waiting = new Map<number, (f: any) => void>();
  const c: Client = { ws, pushes: 0, call: async () => undefined };
  let id = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (f.t === 'hello') resolve();
      else if (f.t === 'push') c.pushes++;
      else if (f.t === 'res') waiting.get(f.id)?.(f), waiting.delete(f.id);
    });
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  c.call = (op, params) =>
    new Promise((resolve) => {
      const mine = ++id;
      waiting.set(mine, resolve);
      ws.send(JSON.stringify({ id: mine, op, params }));
    });
  const r = await c.call('login', { userID, userSig: sig(userID) });
  if (!r.ok) throw new Error(`login ${userID}: ${JSON.stringify(r.error)}`);
  return c;
}

async function rest(base: string, command: string, body: unknown) {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
  return (await (await fetch(`${base}/v4/${command}?${q}`, { method: 'POST', body: JSON.stringify(body) })).json()) as any;
}

/** Samples GET /healthz back to back (5 ms apart) for `ms`; returns the latencies and the last reply. */
async function sampleHealth(base: string, ms: number, stopWhen?: (h: any) => boolean): Promise<{ lat: number[]; last: any; took: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  let last: any = null;
  while (performance.now() - t0 < ms) {
    const t = performance.now();
    try {
      last = await (await fetch(`${base}/healthz?${HEALTH_PROOF}`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })).json();
    } catch {
      // A server too busy to answer within the timeout: recorded as the timeout (a lower bound of the stall).
    }
    lat.push(performance.now() - t);
    if (stopWhen?.(last)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { lat, last, took: performance.now() - t0 };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length} samples)`;

async function main() {
  const server = await startServer();
  const base = server.url;
  const pubs = Array.from({ length: PUBLISHERS }, (_, i) => `pub${i}`);
  const readers = Array.from({ length: READERS }, (_, i) => `reader${i}`);
  const slow = Array.from({ length: SLOW }, (_, i) => `slow${i}`);
  await rest(base, 'im_open_login_svc/multiaccount_import', { Accounts: [...pubs, ...readers, ...slow] });
  const pubClients = await Promise.all(pubs.map((p) => client(base, p)));
  const readerClients = await Promise.all(readers.map((r) => client(base, r)));
  for (const r of readerClients) await r.call('subscribeUserStatus', { userIDList: pubs });

  // The load: each publisher changes its custom status as fast as its replies come back.
  let running = true;
  let changes = 0;
  const load = pubClients.map(async (c, i) => {
    for (let n = 0; running; n++) {
      const r = await c.call('setSelfStatus', { customStatus: `${'x'.repeat(STATUS_BYTES)}${i}.${n % 1000}` });
      if (r.ok) changes++;
    }
  });

  const rss0 = rssMiB(server.pid);
  progress('baseline phase');
  const baseline = await sampleHealth(base, PHASE_MS);
  const changesBaseline = changes;

  progress('connecting the slow subscribers');
  const slowClients = await Promise.all(slow.map((s) => client(base, s)));
  for (const s of slowClients) await s.call('subscribeUserStatus', { userIDList: pubs });
  const connected = ((await (await fetch(`${base}/healthz?${HEALTH_PROOF}`)).json()) as { connections: number }).connections;
  // They stop reading: their kernel buffers fill, then the server's queue for each.
  for (const s of slowClients) (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  let rssPeak = rssMiB(server.pid);
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(server.pid))), 50);
  const allCut = (h: any) => h !== null && h.connections <= connected - SLOW;
  progress('they stop reading');
  const during = await sampleHealth(base, 4 * PHASE_MS, allCut);
  const cutMs = during.took;
  progress('after phase');
  const after = await sampleHealth(base, PHASE_MS);
  clearInterval(rssTimer);
  const rssAfter = rssMiB(server.pid);
  running = false;
  await Promise.race([Promise.all(load), new Promise((r) => setTimeout(r, 10_000))]);
  const lines = [
    `server: ${ROOT}`,
    `slow readers: ${SLOW} subscribers of ${PUBLISHERS} publishers stop reading; ${READERS} readers keep reading; custom status ${STATUS_BYTES} bytes`,
    `status changes: ${changes} in all (${((changesBaseline / baseline.took) * 1000).toFixed(0)}/s in the baseline phase)`,
    `/healthz baseline (load, no slow reader): ${fmt(baseline.lat)}`,
    `/healthz during (until all ${SLOW} are cut: ${allCut(during.last) ? `${(cutMs / 1000).toFixed(1)} s` : 'NOT ALL CUT'}): ${fmt(during.lat)}`,
    `/healthz after (${(after.took / 1000).toFixed(1)} s more load): ${fmt(after.lat)}`,
    `p99 ratio to baseline: during ${(pct(during.lat, 99) / pct(baseline.lat, 99)).toFixed(2)}x, after ${(pct(after.lat, 99) / pct(baseline.lat, 99)).toFixed(2)}x`,
    `server RSS: ${rss0.toFixed(0)} MiB before, peak ${rssPeak.toFixed(0)} MiB, ${rssAfter.toFixed(0)} MiB after; buffered at the end ${after.last?.bufferedBytes} bytes`,
    `readers received ${readerClients.reduce((a, r) => a + r.pushes, 0)} pushes; readers cut: ${readerClients.filter((r) => r.ws.readyState !== WebSocket.OPEN).length} of ${READERS}`,
  ];
  console.log(lines.join('\n'));
  for (const c of [...pubClients, ...readerClients, ...slowClients]) c.ws.terminate();
  await server.stop();
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
