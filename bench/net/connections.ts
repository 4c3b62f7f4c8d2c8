// Part 7: how many logged-in clients with heartbeats one `status-engine serve` holds, in our protocol (/ws)
// and the Web SDK's (/binfo), with the raw `ws` server (bench/net/raw-server.ts) as the baseline of what a
// bare socket costs. Per run: the server's RSS before and after (per connection), the time to log them all
// in, and the server's CPU per second at steady state (heartbeats only), with the file limit raised in the
// bench itself as far as the machine allows (and said when that is what stopped it).
import fs from 'node:fs';
import path from 'node:path';
import { loadavg } from 'node:os';
import type { Proto } from './agent';
import { CpuWindow, Fleet, fileLimit, importUsers, rssBytes, startServer, type Server } from './fleet';

type Scale = 'full' | 'quick' | 'smoke';
export type ConnTarget = 'ws' | 'sdk' | 'raw';

export interface ConnRun {
  target: ConnTarget;
  aimed: number;
  held: number;
  agents: number;
  /** The server process's file limit after the bench raised it (soft, hard), and what the bench asked for. */
  files: { soft: number; hard: number; asked: number };
  limitedBy: string | null;
  rssBefore: number;
  rssAfter: number;
  rssPerConnection: number;
  /**
   * V8's young generation (new space) after the logins, bytes, from the server's /metrics (null for the raw
   * server): a fixed part of rssAfter whatever the count (its size follows SERVE_NODE_FLAGS and the
   * allocation rate of the logins), so that RSS per connection can be read with and without it.
   */
  newSpaceAfter?: number | null;
  /** Wall time from the first socket opened to the last login answered; and logins per second. */
  loginMs: number;
  loginsPerSec: number;
  /** Server CPU over the steady-state window, idle (no clients) and held, ms of CPU per second. */
  idleCpuMsPerSec: number;
  heldCpuMsPerSec: number;
  /** Frames the clients send per second at steady state (by the protocol's defaults). */
  heartbeatsPerSec: number;
  agentsCpuMsPerSec: number;
  windowSec: number;
  /** Sockets closed during the run (should be none) and the server's own count of open connections. */
  closed: number;
  serverConnections: number | null;
  load: number[];
}

export interface ConnParams {
  code: string;
  scale: Scale;
  seed: number;
  log: (msg: string) => void;
  /** Fewer clients than the scale's, and some servers only (bench/net/held.ts: before/after at a smaller count). */
  aim?: number;
  targets?: ConnTarget[];
  /** Node flags for `serve` instead of SERVE_NODE_FLAGS (bench/net/held.ts: a before/after of a flag). */
  nodeFlags?: string[];
}

const SECRET = `bench-conn-${process.pid}-${Date.now()}`;
const SDK_APP_ID = 1_400_000_000;
/** Sockets per load-generator process (each has the same file limit as the server). */
const PER_AGENT = 10_000;
/** Files the server needs besides its sockets (listening socket, stdio, tsx, libuv: about 25 measured; kept generous). */
const SPARE_FILES = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sizes(scale: Scale) {
  if (scale === 'smoke') return { aim: 60, idleMs: 500, settleMs: 500, windowMs: 1500 };
  if (scale === 'quick') return { aim: 50_000, idleMs: 3000, settleMs: 5000, windowMs: 15_000 };
  return { aim: 50_000, idleMs: 5000, settleMs: 5000, windowMs: 30_000 };
}

/**
 * The total cap on sockets not logged in (`--pending-total`, half the file limit by default) is lifted: this
 * measures what one node holds, and the generators open thousands of sockets at once. A tree older than the
 * flag (a before/after run of held.ts) is started without it.
 */
const pendingTotalOff = (code: string): string[] =>
  fs.readFileSync(path.join(code, 'src/server/program.ts'), 'utf8').includes('pending-total') ? ['--pending-total', '0'] : [];

function start(o: ConnParams, target: ConnTarget, files: number): Promise<Server> {
  if (target === 'raw') return startServer(o.code, ['bench/net/raw-server.ts', '0'], { heapMb: 4096, files });
  return startServer(
    o.code,
    ['src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--store', 'memory', '--switch', 'userStatus=on', '--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID), '--log-level', 'warn', ...pendingTotalOff(o.code)],
    { heapMb: 4096, files, flags: o.nodeFlags },
  );
}

/** The server's young generation's size (its /metrics: prom-client's heap space sizes), when it has one. */
async function serverNewSpace(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^status_engine_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The server's own count of open WebSockets (its /metrics), when it has one. */
async function serverConnections(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const xs = [...text.matchAll(/^status_engine_connections(?:\{[^}]*\})? (\d+)/gm)].map((m) => Number(m[1]));
    return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) : null;
  } catch {
    return null;
  }
}

export async function runConnections(o: ConnParams): Promise<ConnRun[]> {
  const z = { ...sizes(o.scale), ...(o.aim ? { aim: o.aim } : {}) };
  const runs: ConnRun[] = [];
  for (const target of o.targets ?? (['ws', 'sdk', 'raw'] as const)) {
    const asked = z.aim + SPARE_FILES * 5;
    const server = await start(o, target, asked);
    let fleet: Fleet | null = null;
    try {
      const files = fileLimit(server.pid);
      const held = Math.min(z.aim, files.soft - SPARE_FILES);
      const limitedBy =
        held < z.aim
          ? `the file limit: the server process may open ${files.soft} files (hard limit ${files.hard}; the bench asked for ${asked} and ` +
            `raising the hard limit needs CAP_SYS_RESOURCE, which this machine refuses), so at most ${held} sockets after ${SPARE_FILES} files of its own`
          : null;
      o.log(`part 7: ${target === 'raw' ? 'raw ws server' : `serve, ${target === 'ws' ? 'our protocol' : 'Web SDK protocol'}`}: ${held} clients (aimed ${z.aim}; file limit ${files.soft}/${files.hard})`);
      if (target !== 'raw') await importUsers(server.url, { users: held, secretKey: SECRET, sdkAppId: SDK_APP_ID });
      await sleep(1000);
      const idle = new CpuWindow([server.pid]);
      await sleep(z.idleMs);
      const [idleShare] = idle.shares();
      const rssBefore = rssBytes(server.pid);
      const agents = Math.max(1, Math.ceil(held / PER_AGENT));
      fleet = await Fleet.start(o.code, agents, {
        proto: target === 'sdk' ? 'sdk' : ('ws' as Proto),
        url: server.url,
        users: held,
        subs: 0,
        seed: o.seed,
        secretKey: SECRET,
        sdkAppId: SDK_APP_ID,
        heartbeatMs: 10_000,
      });
      const t0 = performance.now();
      await fleet.setup();
      const loginMs = performance.now() - t0;
      o.log(`  ${held} logged in in ${(loginMs / 1000).toFixed(1)} s; steady state for ${z.windowMs / 1000} s`);
      await sleep(z.settleMs);
      const cpu = new CpuWindow([server.pid, ...fleet.pids]);
      await sleep(z.windowMs);
      const [serverShare, ...agentShares] = cpu.shares();
      const rssAfter = rssBytes(server.pid);
      const closed = await fleet.closed();
      const run: ConnRun = {
        target,
        aimed: z.aim,
        held,
        agents,
        files: { ...files, asked },
        limitedBy,
        rssBefore,
        rssAfter,
        rssPerConnection: (rssAfter - rssBefore) / held,
        loginMs,
        loginsPerSec: (held * 1000) / loginMs,
        idleCpuMsPerSec: idleShare! * 1000,
        heldCpuMsPerSec: serverShare! * 1000,
        // Ours: a ping every heartbeatMs / 2 (with the generator's 20% margin); the SDK's: heartbeat.alive
        // every 10 s without downlink, wshello every 30 s.
        heartbeatsPerSec: target === 'sdk' ? held / 10 + held / 30 : held / (5 * 0.8),
        agentsCpuMsPerSec: agentShares.reduce((a, b) => a + b, 0) * 1000,
        windowSec: z.windowMs / 1000,
        closed,
        serverConnections: target === 'raw' ? null : await serverConnections(server.url),
        newSpaceAfter: target === 'raw' ? null : await serverNewSpace(server.url),
        load: loadavg(),
      };
      o.log(
        `  RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB (${(run.rssPerConnection / 1024).toFixed(1)} KiB a connection); ` +
          `server CPU ${run.heldCpuMsPerSec.toFixed(0)} ms/s held (idle ${run.idleCpuMsPerSec.toFixed(0)}); ${closed} closed; server counts ${run.serverConnections ?? 'n/a'}`,
      );
      runs.push(run);
    } finally {
      await fleet?.stop();
      await server.stop();
    }
  }
  return runs;
}
