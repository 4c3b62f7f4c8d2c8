// Multi-process harness (issue 13 item 6): a redis-server of its own (test/cluster/redis.ts) and N real
// `status-engine serve --redis URL --node-id NAME` processes on 127.0.0.1, each on a free port it keeps
// across restarts (so clients' URL lists stay valid), /healthz polled until ready. Nodes can be killed
// with SIGKILL, frozen (SIGSTOP/SIGCONT), stopped (SIGTERM) and started again; every process started here
// is killed at the end of the test (`stop()`), and at exit whatever a failed test left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, SDK_APP_ID, SECRET, adminQuery, sig } from '../../server/proc';
import { freePort, RedisServer } from '../redis';
import { look, notDrained } from './drain';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
});

/** The /healthz of a cluster node (docs/server.md; src/cluster/service.ts ClusterHealth, under `cluster` or at the top). */
export interface NodeHealth {
  node?: string;
  shards?: number[];
  shardCount?: number;
  live?: string[];
  redis?: string;
  [k: string]: unknown;
}

/** The cluster part of a /healthz answer, wherever the server put it. */
export function clusterHealth(h: Record<string, unknown>): NodeHealth {
  const inner = h.cluster;
  return inner !== null && typeof inner === 'object' ? (inner as NodeHealth) : (h as NodeHealth);
}

export interface NodeOptions {
  id: string;
  port: number;
  /** Redis URL; without it the node is today's single-process server (--store memory). */
  redis?: string;
  shards?: number;
  args?: string[];
  /** Runs `hook(pid)` right after each spawn (e.g. to put the process into a CPU-capped cgroup). */
  onSpawn?: (pid: number) => void;
  /** The directory to run `src/cli.ts` from (the bench runs a snapshot of the code). Default: the repository. */
  root?: string;
}

export class NodeProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private err = '';
  /** Every log line of every incarnation (stderr), for a failing test's message. */
  logs = '';
  constructor(readonly o: NodeOptions) {}

  get id(): string {
    return this.o.id;
  }
  get http(): string {
    return `http://127.0.0.1:${this.o.port}`;
  }
  get ws(): string {
    return `ws://127.0.0.1:${this.o.port}`;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get alive(): boolean {
    const p = this.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  /** Spawns the process; `ready()` waits for its /healthz. */
  spawn(): void {
    if (this.alive) throw new Error(`node ${this.id} is already running`);
    const args = ['--import', 'tsx', 'src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', String(this.o.port)];
    args.push('--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID), '--log-level', 'warn');
    // A cluster node's state lives in Redis (serve refuses an explicit --store with --redis).
    if (this.o.redis !== undefined) args.push('--redis', this.o.redis, '--node-id', this.o.id);
    else args.push('--store', 'memory');
    if (this.o.redis !== undefined && this.o.shards !== undefined) args.push('--shards', String(this.o.shards));
    args.push(...(this.o.args ?? []));
    const p = spawn(process.execPath, args, { cwd: this.o.root ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    running.add(p);
    this.err = '';
    p.stdout!.resume();
    p.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.err = (this.err + d).slice(-8000);
      this.logs = (this.logs + d).slice(-32_000);
    });
    this.exited = new Promise((ok) =>
      p.once('exit', () => {
        running.delete(p);
        ok();
      }),
    );
    if (p.pid !== undefined) this.o.onSpawn?.(p.pid);
  }

  /** /healthz's body (also when it is 503: a cluster node whose Redis is away says so), or null: no answer. */
  async health(): Promise<Record<string, unknown> | null> {
    try {
      const res = await fetch(`${this.http}/healthz?${adminQuery()}`, { signal: AbortSignal.timeout(2000) });
      return (await res.json()) as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  /** Polls /healthz until it answers and `pred` holds (default: status ok). */
  async ready(pred: (h: Record<string, unknown>) => boolean = (h) => h.status === 'ok', timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`node ${this.id} exited before it was ready:\n${this.err}`);
      const h = await this.health();
      if (h !== null && pred(h)) return h;
      if (Date.now() > end) throw new Error(`node ${this.id} not ready in ${timeoutMs} ms (last /healthz ${JSON.stringify(h)}):\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    if (!this.alive) return;
    this.proc!.kill(sig);
    await this.exited;
  }
  /** kill -9: no handoff, no goodbye. */
  kill9(): Promise<void> {
    this.proc?.kill('SIGCONT');
    return this.signal('SIGKILL');
  }
  /** SIGTERM: the graceful stop (hands its shards over). Resolves when it exited (SIGKILL after `graceMs`). */
  async term(graceMs = 20_000): Promise<number | null> {
    const p = this.proc;
    if (p === undefined || !this.alive) return p?.exitCode ?? null;
    const hard = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.kill('SIGTERM');
    await this.exited;
    clearTimeout(hard);
    return p.exitCode;
  }
  /** SIGSTOP: frozen with its sockets open (a long GC pause, a stalled VM). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }
  async restart(): Promise<void> {
    await this.kill9();
    await this.start();
  }
}

export interface ClusterOptions {
  nodes?: number;
  shards?: number;
  /** Flags for every node (after the harness's own). */
  args?: string[];
  onSpawn?: (node: string, pid: number) => void;
  root?: string;
  /** Start today's single-process server instead (no Redis): for the harness' own test. */
  single?: boolean;
}

export class Cluster {
  private constructor(
    readonly redis: RedisServer | null,
    readonly nodes: NodeProcess[],
    readonly shards: number,
  ) {}

  static async start(o: ClusterOptions = {}): Promise<Cluster> {
    const n = o.single ? 1 : (o.nodes ?? 3);
    const redis = o.single ? null : await RedisServer.start();
    const nodes: NodeProcess[] = [];
    const cluster = new Cluster(redis, nodes, o.shards ?? 16);
    try {
      for (let i = 0; i < n; i++) {
        const id = `n${i + 1}`;
        nodes.push(
          new NodeProcess({
            id,
            port: await freePort(),
            ...(redis ? { redis: redis.url, shards: cluster.shards } : {}),
            args: o.args,
            root: o.root,
            onSpawn: o.onSpawn ? (pid) => o.onSpawn!(id, pid) : undefined,
          }),
        );
      }
      for (const node of nodes) node.spawn(); // all at once: they start in parallel
      await cluster.settled(60_000, nodes); // all of them: one that exits is reported with its log, not waited for
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  get up(): NodeProcess[] {
    return this.nodes.filter((x) => x.alive);
  }
  /** Each node's ws:// URL. */
  get urls(): string[] {
    return this.nodes.map((x) => x.ws);
  }
  /** A URL list starting at node `i`, for a client homed there that fails over to the others in order. */
  urlsFrom(i: number): string[] {
    const u = this.urls;
    return u.map((_, k) => u[(i + k) % u.length]!);
  }
  node(id: string): NodeProcess {
    const x = this.nodes.find((y) => y.id === id);
    if (!x) throw new Error(`no node ${id}`);
    return x;
  }

  /** Waits until every running node (or those of `among`: leave a frozen one out) answers /healthz, sees the
   * same live set (those nodes), and their shards cover every shard exactly once. Returns shard -> owner. */
  async settled(timeoutMs = 60_000, among?: NodeProcess[]): Promise<Map<number, string>> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const up = among ?? this.up;
      const healths = await Promise.all(up.map((x) => x.health()));
      if (this.redis === null) {
        if (healths.every((h) => h?.status === 'ok')) return new Map();
      } else if (healths.every((h) => h !== null)) {
        const owners = new Map<number, string>();
        let ok = true;
        const ids = up.map((x) => x.id).sort();
        for (const [i, h] of healths.entries()) {
          const c = clusterHealth(h!);
          if (c.redis !== 'ready' || JSON.stringify([...(c.live ?? [])].sort()) !== JSON.stringify(ids)) ok = false;
          for (const s of c.shards ?? []) {
            if (owners.has(s)) ok = false;
            owners.set(s, up[i]!.id);
          }
        }
        if (ok && owners.size === this.shards) return owners;
        last = JSON.stringify(healths.map((h) => clusterHealth(h!)));
      }
      const died = up.filter((x) => !x.alive);
      if (died.length > 0) throw new Error(`node ${died[0]!.id} exited while the cluster settled:\n${died[0]!.logs}`);
      if (Date.now() > end) throw new Error(`cluster not settled in ${timeoutMs} ms; last /healthz: ${last}\n${this.up.map((x) => `--- ${x.id}\n${x.logs.slice(-2000)}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until no push is on its way between the running nodes and none of them is busy (drain.ts): after it, a
   * client's ping (sync()) is answered after every push its node wrote to its socket. The single server: nothing
   * goes between nodes. */
  async drained(timeoutMs = 10_000): Promise<void> {
    if (this.redis === null) return;
    const end = Date.now() + timeoutMs;
    let before: ReturnType<typeof look> | null = null;
    for (;;) {
      const now = look(await Promise.all(this.up.map((x) => x.health())));
      const why = notDrained(before, now);
      if (why === null) return;
      if (Date.now() > end) throw new Error(`cluster not drained in ${timeoutMs} ms: ${why}; last looks ${JSON.stringify(now)}`);
      before = now;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** shard -> owning node id, from the nodes' /healthz (null: nobody says it owns it now). */
  async owners(): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const x of this.up) {
      const h = await x.health();
      if (h) for (const s of clusterHealth(h).shards ?? []) out.set(s, x.id);
    }
    return out;
  }

  /** POST /v4/<command> as the administrator on `node` (default: the first running one). */
  async rest(command: string, body: unknown, node: NodeProcess = this.up[0]!): Promise<Record<string, any>> {
    const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: String(Math.floor(Math.random() * 2 ** 32)), contenttype: 'json' });
    const res = await fetch(`${node.http}/v4/${command}?${q}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    return (await res.json()) as Record<string, any>;
  }

  async register(userIDs: string[]): Promise<void> {
    for (let i = 0; i < userIDs.length; i += 1000) {
      const r = await this.rest('im_open_login_svc/multiaccount_import', { Accounts: userIDs.slice(i, i + 1000) });
      if (r.ActionStatus !== 'OK') throw new Error(`account import: ${JSON.stringify(r)}`);
    }
  }

  /**
   * Edition Ultimate with the userStatus switch on, through REST (a cluster's settings live in Redis, not in flags).
   * Again while a shard has no owner in the answering node's view (75001/75006/75007: a takeover in progress; the
   * change is idempotent and the answer says to call again), at most 50 times 200 ms apart.
   */
  async enableUserStatus(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.rest('im_open_status/config', { Edition: 'Ultimate', Switches: { UserStatus: 'on' } });
      if (r.ActionStatus === 'OK') return;
      if (attempt >= 50 || ![75001, 75006, 75007].includes(r.ErrorCode as number)) throw new Error(`config: ${JSON.stringify(r)}`);
      await new Promise((done) => setTimeout(done, 200));
    }
  }

  /** The truth: REST query_online_status of each user (custom status and version), 100 at a time. */
  async queryStatus(userIDs: string[], node?: NodeProcess): Promise<Array<{ userID: string; statusType: number; customStatus: string; version: number }>> {
    const out: Array<{ userID: string; statusType: number; customStatus: string; version: number }> = [];
    for (let i = 0; i < userIDs.length; i += 100) {
      const r = await this.rest('openim/query_online_status', { To_Account: userIDs.slice(i, i + 100), IsReturnCustomStatus: 1 }, node);
      if (r.ActionStatus !== 'OK') throw new Error(`query_online_status: ${JSON.stringify(r)}`);
      for (const q of r.QueryResult as Array<{ To_Account: string; StatusType: number; CustomStatus?: string; Version: number }>) {
        out.push({ userID: q.To_Account, statusType: q.StatusType, customStatus: q.CustomStatus ?? '', version: q.Version });
      }
    }
    return out;
  }

  /** Kills every process: the nodes, then Redis. Safe to call twice and after a failure. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((x) => x.kill9()));
    await this.redis?.stop();
  }
}
