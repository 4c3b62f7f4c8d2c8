// Test harness: a real redis-server of our own on 127.0.0.1, a free port and a data directory under .tmp/,
// with the AOF fsynced before every reply (appendfsync always), as the cluster runs in production. It can
// be killed with SIGKILL and started again on the same port and data, and is always stopped at exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** A port nobody listens on right now, on 127.0.0.1 (the multi-process harness uses it too). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts a fresh server; fails (never skips) when redis-server is missing: CI installs it. */
  static async start(): Promise<RedisServer> {
    const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(
        `redis-server not found (${probe.error?.message ?? probe.stderr}): the cluster tests need Debian's redis-server ` +
          `(apt-get install redis-server; .ci/run installs it), or REDIS_SERVER=/path/to/redis-server`,
      );
    }
    const root = resolve('.tmp');
    mkdirSync(root, { recursive: true });
    const server = new RedisServer(await freePort(), mkdtempSync(join(root, 'redis-')));
    await server.boot();
    return server;
  }

  private boot(): Promise<void> {
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      '--daemonize', 'no', '--logfile', '', '--loglevel', 'notice',
    ];
    const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    running.add(p);
    p.once('exit', () => running.delete(p));
    return new Promise((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`redis-server did not get ready in 10 s:\n${out}`)), 10_000);
      const onData = (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          p.stdout!.off('data', onData);
          p.stdout!.resume();
          ok();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      p.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited (${code}) before it was ready:\n${out}`));
      });
    });
  }

  private waitExit(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((ok) => {
      p.once('exit', () => ok());
      p.kill(signal);
    });
  }

  /** kill -9: no shutdown, no last fsync beyond what appendfsync always already did. */
  kill(): Promise<void> {
    return this.waitExit('SIGKILL');
  }
  /** The same port and data again (the AOF is replayed). */
  restart(): Promise<void> {
    return this.boot();
  }
  /** SIGSTOP / SIGCONT: Redis frozen, its sockets open. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.waitExit('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
