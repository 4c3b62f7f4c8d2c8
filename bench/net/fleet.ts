// The coordinator's side of parts 3 and 7: starts the server under test (status-engine serve, or the raw ws
// server) with the file limit raised as far as the machine allows, starts the load-generator processes
// (bench/net/agent.ts) and talks to them over IPC, and reads a process's CPU time and RSS from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { genUserSig, ADMIN_IDENTIFIER } from '../../src/server/usersig';
import type { AgentCommand, AgentParams, SentReply, SetupReply, StatsReply } from './agent';
import { Histogram } from './histogram';

const TICK_MS = 1000 / 100; // getconf CLK_TCK: /proc counts CPU in 10 ms ticks

/** A process's CPU time so far (user + system), ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** A process's write system calls so far (write, writev: /proc/PID/io syscw). */
export function writeCalls(pid: number): number {
  return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

/** A process's resident set, bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The soft and hard limits on open files of a process. */
export function fileLimit(pid: number): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const n = (s: string | undefined) => (s === 'unlimited' || s === undefined ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/**
 * `sh -c 'ulimit -n N || ulimit -n <hard>; exec node ...'`: the file limit raised in the bench itself, to N if
 * the machine lets it (raising the hard limit needs CAP_SYS_RESOURCE), else to the hard limit.
 */
function withFileLimit(files: number, argv: string[]): [string, string[]] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ['sh', ['-c', `ulimit -n ${files} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${argv.map(q).join(' ')}`]];
}

/**
 * The node flags `status-engine serve` is meant to run with (the Dockerfile's ENTRYPOINT; docs/performance.md
 * section 3, "The tail ... session 12"), so that the benchmarks measure that: V8's young generation with
 * semi-spaces of up to SEMI_SPACE_MB (node's default is 16 on 64-bit). At 5k clients and 10% load the default
 * one fills about once a second and promotes what lives a few seconds; with 64 it scavenged 2-3 times per 10 s
 * instead of 9-10 and promoted about a quarter (fewer mark-compacts), for a fixed ~100 MiB more RSS. V8 reads
 * it only at start-up (v8.setFlagsFromString later changes nothing): it must be on node's command line or in
 * NODE_OPTIONS. test/bench/net.test.ts keeps the Dockerfile in step.
 */
export const SEMI_SPACE_MB = 64;
export const SERVE_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${SEMI_SPACE_MB}`];

const nodeArgs = (heapMb: number, flags: readonly string[], file: string) => [process.execPath, '--expose-gc', `--max-old-space-size=${heapMb}`, ...flags, '--import', 'tsx', file];

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a server process and waits for its `listening on URL` line: with SERVE_NODE_FLAGS unless `flags`
 * are given (the raw ws server too, so that it stays the floor of the same runtime).
 */
export function startServer(code: string, args: string[], o: { heapMb?: number; flags?: readonly string[]; files?: number } = {}): Promise<Server> {
  const flags = o.flags ?? SERVE_NODE_FLAGS;
  const [cmd, argv] = withFileLimit(o.files ?? 1 << 20, [...nodeArgs(o.heapMb ?? 4096, flags, args[0]!), ...args.slice(1)]);
  const child = spawn(cmd, argv, { cwd: code, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server ${args.join(' ')} did not start in 60 s:\n${err}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      out = '';
      resolve({ url: m[1]!, pid: child.pid!, stop: () => stopChild(child, 'SIGTERM') });
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`server ${args.join(' ')} exited with ${c}:\n${err}`));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const hard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(hard);
      res();
    });
    child.kill(signal);
  });
}

/** Imports the run's users into the server (the admin REST API), 10,000 per call. */
export async function importUsers(url: string, o: { users: number; secretKey: string; sdkAppId: number }): Promise<void> {
  const sig = genUserSig({ sdkAppId: o.sdkAppId, secretKey: o.secretKey, identifier: ADMIN_IDENTIFIER, expireSeconds: 86_400 });
  const q = `sdkappid=${o.sdkAppId}&identifier=${ADMIN_IDENTIFIER}&usersig=${encodeURIComponent(sig)}&random=1&contenttype=json`;
  for (let i = 0; i < o.users; i += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, o.users - i) }, (_, k) => `u${i + k}`);
    const res = await fetch(`${url}/v4/im_open_login_svc/multiaccount_import?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Accounts: ids }) });
    const body = (await res.json()) as { ActionStatus: string; ErrorInfo?: string };
    if (body.ActionStatus !== 'OK') throw new Error(`account import: ${body.ErrorInfo}`);
  }
}

/** The load generators: `agents` processes sharing the clients, each on its own source addresses. */
export class Fleet {
  private readonly procs: Array<{ child: ChildProcess; inbox: Array<(m: any) => void>; failed: Error | null }> = [];

  private constructor(readonly pids: number[]) {}

  static async start(code: string, agents: number, p: Omit<AgentParams, 'from' | 'to' | 'localAddresses'>): Promise<Fleet> {
    const per = Math.ceil(p.users / agents);
    const children = Array.from({ length: agents }, (_, i) => {
      const params: AgentParams = {
        ...p,
        from: i * per,
        to: Math.min(p.users, (i + 1) * per),
        // 127.0.0.2 and up: 28k ephemeral ports per source address toward the server's one address.
        localAddresses: Array.from({ length: 4 }, (_, k) => `127.0.${i + 1}.${k + 2}`),
      };
      const [cmd, argv] = withFileLimit(1 << 20, [...nodeArgs(4096, [], 'bench/net/agent.ts'), JSON.stringify(params)]);
      return spawn(cmd, argv, { cwd: code, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    });
    const fleet = new Fleet(children.map((c) => c.pid!));
    for (const child of children) {
      const proc = { child, inbox: [] as Array<(m: any) => void>, failed: null as Error | null };
      child.on('message', (m: any) => {
        if (m.t === 'error') proc.failed = new Error(`load generator: ${m.message}`);
        proc.inbox.shift()?.(m);
      });
      child.on('exit', (c) => {
        proc.failed ??= new Error(`load generator exited with ${c}`);
        for (const r of proc.inbox.splice(0)) r({ t: 'error' });
      });
      fleet.procs.push(proc);
    }
    await Promise.all(fleet.procs.map((pr) => fleet.next(pr)));
    return fleet;
  }

  private next(pr: Fleet['procs'][number]): Promise<any> {
    return new Promise((resolve, reject) => {
      pr.inbox.push((m) => (m.t === 'error' ? reject(pr.failed ?? new Error('load generator failed')) : resolve(m)));
    });
  }

  private ask<T>(m: AgentCommand): Promise<T[]> {
    return Promise.all(
      this.procs.map((pr) => {
        if (pr.failed) return Promise.reject(pr.failed);
        const r = this.next(pr);
        pr.child.send(m);
        return r as Promise<T>;
      }),
    );
  }

  setup(): Promise<SetupReply[]> {
    return this.ask<SetupReply>({ t: 'setup' });
  }

  /** Offers `rate` changes/s in all for `ms`, then waits up to `graceMs` for the pushes still on their way. */
  async phase(id: number, rate: number, ms: number, graceMs: number): Promise<PhaseResult> {
    const sent = await this.ask<SentReply>({ t: 'phase', id, rate: rate / this.procs.length, ms });
    const expected = sent.reduce((a, s) => a + s.expected, 0);
    const until = Date.now() + graceMs;
    let delivered = 0;
    for (;;) {
      delivered = (await this.ask<{ delivered: number }>({ t: 'count', id })).reduce((a, c) => a + c.delivered, 0);
      if (delivered >= expected || Date.now() >= until) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const settledMs = graceMs - Math.max(0, until - Date.now());
    const stats = await this.ask<StatsReply>({ t: 'stats', id });
    const h = new Histogram();
    for (const s of stats) h.merge(s.hist);
    return {
      offered: rate,
      seconds: ms / 1000,
      changes: sent.reduce((a, s) => a + s.sent, 0),
      expected,
      delivered: stats.reduce((a, s) => a + s.delivered, 0),
      settledMs,
      errors: stats.reduce((a, s) => a + s.errors, 0),
      closed: stats.reduce((a, s) => a + s.closed, 0),
      lagP99Ms: Math.max(...sent.map((s) => s.lagP99Ms)),
      lagMaxMs: Math.max(...sent.map((s) => s.lagMaxMs)),
      latency: h.summary(),
      slow: stats.flatMap((s) => s.slow ?? []),
      agentPauses: stats.map((s) => s.pauses ?? []),
    };
  }

  /** Waits (up to `maxMs`) until the pushes of phase `id` have all arrived: an overloaded step's backlog drains. */
  async drain(id: number, expected: number, maxMs: number): Promise<number> {
    const until = Date.now() + maxMs;
    for (;;) {
      const got = (await this.ask<{ delivered: number }>({ t: 'count', id })).reduce((a, c) => a + c.delivered, 0);
      if (got >= expected || Date.now() >= until) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Heartbeat frames the load generators have sent so far. */
  async beats(): Promise<number> {
    return (await this.ask<StatsReply>({ t: 'stats', id: -1 })).reduce((a, s) => a + s.beats, 0);
  }

  /** Sockets the server closed on the load generators so far. */
  async closed(): Promise<number> {
    return (await this.ask<StatsReply>({ t: 'stats', id: -1 })).reduce((a, s) => a + s.closed, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (pr) =>
          new Promise<void>((res) => {
            if (pr.child.exitCode !== null || pr.child.signalCode !== null) return res();
            const hard = setTimeout(() => pr.child.kill('SIGKILL'), 10_000);
            pr.child.once('exit', () => {
              clearTimeout(hard);
              res();
            });
            if (pr.child.connected) pr.child.send({ t: 'quit' });
            else pr.child.kill('SIGTERM');
          }),
      ),
    );
  }
}

export interface PhaseResult {
  offered: number;
  seconds: number;
  changes: number;
  expected: number;
  delivered: number;
  /** How long after the last send the last push arrived (or the grace, if some never did). */
  settledMs: number;
  errors: number;
  closed: number;
  lagP99Ms: number;
  lagMaxMs: number;
  latency: ReturnType<Histogram['summary']>;
  /** With the agents' `slowUs`: the slow pushes as [sent µs, latency µs] pairs (CLOCK_MONOTONIC), and each agent's own pauses. */
  slow: number[];
  agentPauses: number[][];
}

/** CPU used by some processes over a stretch, as shares of one core. */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly c0: number[];
  constructor(private readonly pids: number[]) {
    this.c0 = pids.map(cpuMs);
  }
  shares(): number[] {
    const dt = performance.now() - this.t0;
    return this.pids.map((pid, i) => (cpuMs(pid) - this.c0[i]!) / dt);
  }
}
