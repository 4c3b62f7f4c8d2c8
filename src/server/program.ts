// The command line of API.md as a commander program: `status-engine serve` runs the server, `status-engine
// usersig` mints a UserSig with the same key. Flags are checked here, so a bad one is a clear message and
// exit code 1 before anything starts. src/cli.ts runs it; tests build it in-process with their own output.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { EDITIONS, type Edition } from '../../machines/spec';
import type { Store } from '../store/types';
import type { ConfigChange } from '../types';
import { DEFAULTS, LOG_LEVELS } from './defaults';
import { loadSecretKey } from './secret';
import type { RunningServer } from './server';
import { genUserSig } from './usersig';

const DEFAULT_DATA = './data';
const DEFAULT_EXPIRE = 180 * 86400;
const SWITCH_NAMES = { userStatus: 'userStatus', friendStatusNotify: 'friendStatusNotify' } as const;

const integer = (name: string, min: number, max: number) => (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'.`);
  const n = Number(value);
  if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${n}.`);
  return n;
};

/** `--switch userStatus=on` (repeatable): name=on|off|true|false|1|0. */
const switchFlag = (value: string, previous: Record<string, boolean> = {}): Record<string, boolean> => {
  const m = /^([A-Za-z]+)=(on|off|true|false|1|0)$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`expected NAME=on|off (NAME: ${Object.keys(SWITCH_NAMES).join(', ')}), got '${value}'.`);
  const name = Object.keys(SWITCH_NAMES).find((k) => k.toLowerCase() === m[1]!.toLowerCase());
  if (!name) throw new InvalidArgumentError(`unknown switch '${m[1]}' (known: ${Object.keys(SWITCH_NAMES).join(', ')}).`);
  return { ...previous, [name]: /^(on|true|1)$/i.test(m[2]!) };
};

/** `--limit rateLimit.requests=50` (repeatable): any limit of SPEC.md's Defaults table; the engine's rules check it at start. */
const limitFlag = (value: string, previous: Record<string, unknown> = {}): Record<string, unknown> => {
  const m = /^([A-Za-z]+)(?:\.([A-Za-z]+))?=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected NAME=NUMBER or rateLimit.requests=NUMBER, got '${value}'.`);
  const next: Record<string, unknown> = { ...previous };
  if (m[2]) next[m[1]!] = { ...(next[m[1]!] as object | undefined), [m[2]]: Number(m[3]) };
  else next[m[1]!] = Number(m[3]);
  return next;
};

const url = (name: string) => (value: string): string => {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`${name} must be an absolute URL, got '${value}'.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`${name} must be http:// or https://, got '${u.protocol}'.`);
  return value;
};

interface ServeFlags {
  host: string;
  port: number;
  data: string;
  store: 'sqlite' | 'memory';
  edition?: Edition;
  switch?: Record<string, boolean>;
  limit?: Record<string, unknown>;
  sdkappid: number;
  secretKey?: string;
  webhook?: string;
  webhookSecret?: string;
  heartbeatMs: number;
  bodyLimit: number;
  clock: 'system' | 'simulated';
  logLevel: (typeof LOG_LEVELS)[number];
  init?: boolean;
}

async function openStore(flags: ServeFlags, log: Logger): Promise<Store | undefined> {
  if (flags.store === 'memory') {
    log.warn('store: memory (nothing survives a restart)');
    return undefined;
  }
  mkdirSync(flags.data, { recursive: true, mode: 0o700 });
  const file = path.resolve(flags.data, 'status-engine.db');
  const [{ SqliteStore }, { checkStoreAtOpen }] = await Promise.all([import('../store/sqlite'), import('../store/integrity')]);
  checkStoreAtOpen(file, { init: flags.init, log });
  const store = new SqliteStore(file);
  log.info({ file }, 'store: sqlite');
  return store;
}

async function serve(flags: ServeFlags, program: Command): Promise<void> {
  // The server's modules load only for serve, so that --help, usersig and bad flags answer at once.
  const [{ createLogger }, { startServer }, { parseConfigChange }] = await Promise.all([
    import('./logger'),
    import('./server'),
    import('../engine/config'),
  ]);
  if (flags.limit) {
    try {
      parseConfigChange({ limits: flags.limit }, '--limit');
    } catch (e) {
      program.error(`error: option '--limit' is invalid. ${(e as Error).message}`);
    }
  }
  const log = createLogger(flags.logLevel);
  let secretKey = flags.secretKey;
  if (secretKey !== undefined && secretKey.length < 16) {
    program.error(`error: option '--secret-key' is too short (${secretKey.length} characters; at least 16)`);
  }
  if (!secretKey) {
    const k = loadSecretKey(flags.data, { create: true });
    secretKey = k.key;
    log.info({ file: k.file }, k.created ? 'created a new secret key for UserSigs (keep it private; `status-engine usersig` reads it)' : 'secret key for UserSigs loaded');
    if (k.wasLoose) log.warn({ file: k.file }, 'the secret key file could be read by others: tightened to 0600, but it may have leaked; consider a new key');
  }
  if (flags.clock === 'simulated') log.warn('clock: simulated (time moves only through POST /v4/test/advance; for tests, never for production)');
  const settings: ConfigChange = {};
  if (flags.edition) settings.edition = flags.edition;
  if (flags.switch) settings.switches = flags.switch;
  if (flags.limit) settings.limits = flags.limit as ConfigChange['limits'];

  // Signals are heard from the start: one that comes while starting stops the server once it is up.
  let server: RunningServer | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    if (!server) return;
    server.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // What no front-end caught: logged, and served past where safe, else a clean exit (docs/server.md).
  (await import('./lastResort')).installLastResort({ log, shutdown: async () => void (await server?.close()) });

  const store = await openStore(flags, log);
  try {
    server = await startServer({
      host: flags.host,
      port: flags.port,
      store,
      settings,
      clock: flags.clock,
      sdkAppId: flags.sdkappid,
      secretKey,
      logger: log,
      heartbeatMs: flags.heartbeatMs,
      bodyLimit: flags.bodyLimit,
      webhook: flags.webhook ? { url: flags.webhook, secret: flags.webhookSecret } : undefined,
    });
  } catch (err) {
    store?.close();
    throw err;
  }
  if (stopping) {
    stopping = false;
    stop('signal during start');
    return;
  }
  process.stdout.write(`listening on ${server.url}\n`);
  log.info({ url: server.url, sdkAppId: flags.sdkappid, settings: server.core.settings() }, 'serving');
}

export interface ProgramIO {
  /** Where printed results go (the UserSig, help). Default stdout. */
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Throw a CommanderError instead of exiting (tests). */
  exitOverride?: boolean;
}

export function buildProgram(io: ProgramIO = {}): Command {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const program = new Command('status-engine')
    .description('A user-presence engine: Tencent Cloud IM user status, served (see API.md)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: out, writeErr: io.err ?? ((s) => void process.stderr.write(s)), outputError: (s, write) => write(s) });
  if (io.exitOverride) program.exitOverride();

  program
    .command('serve')
    .description('serve the client protocol (/ws), the Web SDK protocol (/binfo), the admin REST API (/v4) and /healthz on one port')
    .option('--host <host>', 'address to listen on', DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port', 0, 65535), DEFAULTS.port)
    .option('--data <dir>', 'data directory (database and secret key)', DEFAULT_DATA)
    .addOption(new Option('--store <kind>', 'where state lives').choices(['sqlite', 'memory']).default('sqlite'))
    .addOption(new Option('--edition <edition>', 'the app edition (applied at start)').choices([...EDITIONS]))
    .option('--switch <name=on|off>', 'a console switch: userStatus, friendStatusNotify (repeatable)', switchFlag)
    .option('--limit <name=value>', 'a limit of SPEC.md Defaults, e.g. subscriptionQuota=100 or rateLimit.requests=50 (repeatable)', limitFlag)
    .option('--sdkappid <n>', 'the SDKAppID UserSigs must be made for', integer('--sdkappid', 1, 2 ** 32 - 1), DEFAULTS.sdkAppId)
    .addOption(
      new Option('--secret-key <key>', 'the key UserSigs are signed with, 16 characters or more (default: <data>/secret.key, created on first start); prefer the environment variable: arguments show in ps')
        .env('STATUS_ENGINE_SECRET_KEY'),
    )
    .option('--webhook <url>', 'post State.StateChange callbacks here (EXT-8)', url('--webhook'))
    .addOption(new Option('--webhook-secret <secret>', 'sign webhook posts with HMAC-SHA256 under this secret').env('STATUS_ENGINE_WEBHOOK_SECRET'))
    .option('--body-limit <bytes>', 'the largest admin REST body accepted', integer('--body-limit', 1024, 1024 * 1024 * 1024), DEFAULTS.bodyLimit)
    .option('--heartbeat-ms <ms>', 'how often each client socket must speak (clients ping at half this)', integer('--heartbeat-ms', 100, 3_600_000), DEFAULTS.heartbeatMs)
    .addOption(new Option('--clock <clock>', 'tests only: "simulated" stops time until POST /v4/test/advance and enables /v4/test/*').choices(['system', 'simulated']).default('system'))
    .addOption(new Option('--log-level <level>', 'log level (the log goes to stderr)').choices([...LOG_LEVELS]).default('info'))
    .option('--init', 'start with an empty store when the database file is a 0-byte file (otherwise refused as corrupt)')
    .action(async (flags: ServeFlags) => {
      if (flags.webhookSecret && !flags.webhook) program.error('error: --webhook-secret needs --webhook');
      await serve(flags, program);
    });

  program
    .command('check')
    .description("check the store with PRAGMA integrity_check (server stopped); exit 0 sound, 1 damaged, 2 could not check")
    .option('--data <dir>', 'data directory', DEFAULT_DATA)
    .option('--backup <file>', 'when sound, also write a consistent copy of the store to <file>')
    .action(async (flags: { data: string; backup?: string }) => {
      const { checkCommand } = await import('../store/integrity');
      process.exitCode = await checkCommand(flags.data, { backup: flags.backup, out, err: io.err ?? ((s) => void process.stderr.write(s)) });
    });

  program
    .command('usersig')
    .description('print a UserSig for <userID>, signed with the server key (administrator is the admin identity)')
    .argument('<userID>', 'the user (or "administrator" for the REST API)')
    .option('--expire <seconds>', 'lifetime in seconds', integer('--expire', 1, 100 * 365 * 86400), DEFAULT_EXPIRE)
    .option('--data <dir>', 'data directory holding secret.key', DEFAULT_DATA)
    .option('--secret-key <key>', 'the key to sign with (instead of <data>/secret.key)')
    .option('--sdkappid <n>', 'the SDKAppID', integer('--sdkappid', 1, 2 ** 32 - 1), DEFAULTS.sdkAppId)
    .action((userID: string, flags: { expire: number; data: string; secretKey?: string; sdkappid: number }) => {
      if (userID.length === 0) program.error('error: <userID> must not be empty');
      let key = flags.secretKey;
      if (!key) {
        try {
          key = loadSecretKey(flags.data, { create: false }).key;
        } catch (e) {
          program.error(`error: ${(e as Error).message}`);
        }
      }
      out(`${genUserSig({ sdkAppId: flags.sdkappid, secretKey: key!, identifier: userID, expireSeconds: flags.expire })}\n`);
    });

  return program;
}
