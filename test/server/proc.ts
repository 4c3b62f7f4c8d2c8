// Starts the real server process (`node --import tsx src/cli.ts serve --port 0 ...`) on 127.0.0.1, waits for
// its `listening on` line, and talks to its admin REST API with UserSigs made by the tls-sig-api-v2 package
// itself (so that compatibility is what the tests prove). Waits are on events with a timeout, never sleeps.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const TLSSigAPIv2 = require('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => { genUserSig(userID: string, expire: number): string } };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SDK_APP_ID = 1400000123;
export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/** A UserSig from the reference package (tls-sig-api-v2), valid `expire` seconds. */
export function sig(userID: string, opts: { expire?: number; key?: string; sdkAppId?: number } = {}): string {
  return new TLSSigAPIv2.Api(opts.sdkAppId ?? SDK_APP_ID, opts.key ?? SECRET).genUserSig(userID, opts.expire ?? 86400);
}

/** The admin proof as a query (/healthz gives its counts to the administrator only); long-lived: tests move simulated clocks far. */
export function adminQuery(): string {
  return new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator', { expire: 10 * 365 * 86400 }) }).toString();
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far (its log). */
  log(): string;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /** POST /v4/<path> as the administrator; returns the JSON reply. */
  rest(command: string, body: unknown, query?: Record<string, string>): Promise<Record<string, any>>;
  health(): Promise<Record<string, any>>;
  /** SIGTERM (or another signal), then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** kill -9: no chance to clean up. */
  kill9(): Promise<void>;
}

/** `args` come after `serve --port 0`; `--secret-key` (unless `keyFromData`) and `--sdkappid` are added unless given. */
export async function startServerProcess(args: string[] = [], opts: { timeoutMs?: number; port?: number; keyFromData?: boolean } = {}): Promise<ServerProcess> {
  const full = ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', String(opts.port ?? 0)];
  if (!args.includes('--secret-key') && !opts.keyFromData) full.push('--secret-key', SECRET);
  if (!args.includes('--sdkappid')) full.push('--sdkappid', String(SDK_APP_ID));
  if (!args.includes('--log-level')) full.push('--log-level', 'warn');
  full.push(...args);
  const proc = spawn(process.execPath, full, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${opts.timeoutMs ?? 15000} ms:\n${stderr}`)), opts.timeoutMs ?? 15000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${stderr}`));
    });
  });
  const port = Number(new URL(url).port);
  const rest = async (command: string, body: unknown, query: Record<string, string> = {}) => {
    const q = new URLSearchParams({
      sdkappid: String(SDK_APP_ID),
      identifier: 'administrator',
      usersig: sig('administrator'),
      random: String(Math.floor(Math.random() * 2 ** 32)),
      contenttype: 'json',
      ...query,
    });
    const res = await fetch(`${url}/v4/${command}?${q}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return (await res.json()) as Record<string, any>;
  };
  return {
    url,
    port,
    proc,
    log: () => stderr,
    stdout: () => stdout,
    rest,
    health: async () => (await (await fetch(`${url}/healthz?${adminQuery()}`)).json()) as Record<string, any>,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    kill9: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `probe` (no fixed sleeps: each round waits for the event loop) until it returns a truthy value. */
export async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
