// Issue 11's figures: what Web SDK clients cost the real server process (`status-engine serve`), read from its
// /proc CPU counters. An idle server is the baseline of the same run; then idle SDKs of both versions; then a
// looping client (its requests back to back, as @tencentcloud/chat 3.x paged the block list, and worse: it
// does not wait for answers), which the per-connection request budget must cut off within a second.
//
//   node --import tsx bench/sdkIdle.ts [--clients 10] [--window-ms 5000] [--loops 3]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createSdk, type SdkDevice, type SdkName } from '../test/sdk/harness';
import { SDK_APP_ID, sig, startServerProcess, type ServerProcess } from '../test/server/proc';
import { median } from './lib/measure';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const CLIENTS = arg('clients', 10);
const WINDOW_MS = arg('window-ms', 5000);
const LOOPS = arg('loops', 3);
const TICK_MS = 1000 / 100; // getconf CLK_TCK: /proc counts CPU in 10 ms ticks

/** The server process's CPU time so far (user + system), in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14 and 15 of stat)
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Share of one core the server used over `ms` of wall time. */
async function coreShare(server: ServerProcess, ms: number): Promise<number> {
  const c0 = cpuMs(server.proc.pid!);
  const t0 = performance.now();
  await wait(ms);
  return (cpuMs(server.proc.pid!) - c0) / (performance.now() - t0);
}

async function idleSdks(server: ServerProcess, sdk: SdkName, n: number, users: string[]): Promise<SdkDevice[]> {
  const devices: SdkDevice[] = [];
  for (let i = 0; i < n; i++) {
    const d = createSdk(server.url.replace(/^http/, 'ws'), { sdkAppId: SDK_APP_ID, sdk });
    await d.tim.login({ userID: users[i]!, userSig: sig(users[i]!) });
    await d.waitFor('sdkStateReady', () => true, 15_000);
    devices.push(d);
  }
  await wait(3000); // past the SDKs' delayed boot requests (purchase bits, about a second after login)
  return devices;
}

interface LoopResult {
  cutOffMs: number;
  sent: number;
  answered: number;
  refused: number;
  closeCode: number;
  /** Server CPU over the first second from the loop's first frame, as a share of one core. */
  share: number;
}

/** A logged-in raw client that sends `sns.black_list_get` back to back (`waitForAnswers`: as the SDK did). */
async function loop(server: ServerProcess, userID: string, waitForAnswers: boolean): Promise<LoopResult> {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), platform: '7' });
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/binfo?${q}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let seq = 0;
  const frame = (servcmd: string, head: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ head: { servcmd, seq: ++seq, ...head }, body: {} }));
  const loggedIn = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(frame('im_open_status.wslogin', { identifier: userID, usersig: sig(userID), sdkappid: SDK_APP_ID }));
  await loggedIn;
  let answered = 0;
  let refused = 0;
  let closed = false;
  const send = () => {
    if (closed || ws.readyState !== WebSocket.OPEN) return;
    ws.send(frame('sns.black_list_get'));
  };
  ws.on('message', (d: Buffer) => {
    answered++;
    if (JSON.parse(d.toString('utf8')).body?.ErrorCode === 2996) refused++;
    if (waitForAnswers) send();
  });
  const closedAt = new Promise<number>((resolve) =>
    ws.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  const c0 = cpuMs(server.proc.pid!);
  const t0 = performance.now();
  if (waitForAnswers) send();
  else {
    const burst = () => {
      for (let i = 0; i < 50 && !closed; i++) send();
      if (!closed) setImmediate(burst);
    };
    burst();
  }
  const code = await Promise.race([closedAt, wait(10_000).then(() => -1)]);
  const cutOffMs = performance.now() - t0;
  await wait(Math.max(0, 1000 - cutOffMs));
  const share = (cpuMs(server.proc.pid!) - c0) / (performance.now() - t0);
  ws.terminate();
  return { cutOffMs, sent: seq - 1, answered: answered, refused, closeCode: code, share };
}

// The SDK does not handle every rejection of its own requests (a refused boot request, e.g.): count, go on.
let sdkUnhandled = 0;
process.on('unhandledRejection', () => void sdkUnhandled++);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const server = await startServerProcess(['--store', 'memory', '--switch', 'userStatus=on', '--log-level', 'warn']);
  try {
    const users = Array.from({ length: 2 * CLIENTS + 2 * LOOPS + 2 }, (_, i) => `u${i}`);
    const r = await server.rest('im_open_login_svc/multiaccount_import', { Accounts: users });
    if (r.ActionStatus !== 'OK') throw new Error(JSON.stringify(r));
    await wait(1000);
    console.log(`server pid ${server.proc.pid}; windows of ${WINDOW_MS} ms; /proc resolution ${TICK_MS} ms of CPU`);

    const baseline = await coreShare(server, WINDOW_MS);
    console.log(`idle server, no clients:                     ${pct(baseline)} of a core (the baseline)`);
    const tim2 = await idleSdks(server, 'tim2', CLIENTS, users.slice(0, CLIENTS));
    const chat3 = await idleSdks(server, 'chat3', CLIENTS, users.slice(CLIENTS, 2 * CLIENTS));
    const idle = await coreShare(server, WINDOW_MS);
    console.log(
      `${CLIENTS} x tim-js-sdk 2.x + ${CLIENTS} x @tencentcloud/chat 3.x idle: ${pct(idle)} of a core ` +
        `(${pct(idle - baseline)} over the baseline; ${pct((idle - baseline) / (2 * CLIENTS))} per client)`,
    );
    const closes = [...tim2, ...chat3].reduce((n, d) => n + d.sockets.length - 1, 0);
    console.log(`  (sockets the SDKs had to reopen meanwhile: ${closes}; SDK rejections left unhandled: ${sdkUnhandled})`);
    await Promise.all([...tim2, ...chat3].map((d) => d.destroy()));

    let next = 2 * CLIENTS;
    for (const waitForAnswers of [true, false]) {
      const runs: LoopResult[] = [];
      for (let i = 0; i < LOOPS; i++) runs.push(await loop(server, users[next++]!, waitForAnswers));
      const label = waitForAnswers ? 'looping client, request after answer (as 3.x did)' : 'looping client, not waiting for answers';
      console.log(
        `${label}: cut off after ${median(runs.map((x) => x.cutOffMs)).toFixed(0)} ms (median of ${LOOPS}; close ${runs.map((x) => x.closeCode).join(',')}), ` +
          `${median(runs.map((x) => x.sent))} frames sent, ${median(runs.map((x) => x.refused))} refused with 2996; ` +
          `server CPU over the first second: ${pct(median(runs.map((x) => x.share)))} of a core (max ${pct(Math.max(...runs.map((x) => x.share)))}; baseline ${pct(baseline)})`,
      );
    }
  } finally {
    await server.stop();
  }
}

await main();
process.exit(0);
