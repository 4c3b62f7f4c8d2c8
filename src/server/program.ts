// The command line of API.md as a commander program: `status-engine serve` runs the server, `status-engine
// usersig` mints a UserSig with the same key. Flags (and their STATUS_ENGINE_<FLAG> variables and --config
// file keys, src/server/config.ts) are checked here, so a bad one is a clear message and exit code 1 before
// anything starts. src/cli.ts runs it; tests build it in-process with their own output.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EDITIONS } from '../../machines/spec';
import type { ConfigChange } from '../types';
import { version } from '../../package.json';
import { addEnvironment, applyConfigFile, applyEnvironment, checkWhole, flagParser, parseValue, unknownEnvironment } from './config';
import { DEFAULTS, LOG_LEVELS } from './defaults';
import { DEFAULT_PENDING_LIMITS, DEFAULT_REQUEST_BUDGET } from './requestBudget';
import { inspectCliOptions, inspectFromFlags } from './inspectFlags';
import { DEFAULT_LEASE_MS, joinCluster, openStore, type ServeFlags } from './serveParts';
import { SECRET_FILE, resolveSecretKey } from './secret';
import type { RunningServer } from './server';
import { genUserSig } from './usersig';
import { registerConformance } from '../conformance/cli';

const DEFAULT_DATA = './data';
const DEFAULT_EXPIRE = 180 * 86400;

const integer = (name: string, min: number, max: number) => (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'.`);
  const n = Number(value);
  if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${n}.`);
  return n;
};

async function serve(flags: ServeFlags, program: Command): Promise<void> {
  // The server's modules load only for serve, so that --help, usersig and bad flags answer at once.
  const [{ createLogger }, { startServer }, { parseConfigChange }, { readTls }] = await Promise.all([
    import('./logger'),
    import('./server'),
    import('../engine/config'),
    import('./tls'),
  ]);
  if (flags.limit) {
    try {
      parseConfigChange({ limits: flags.limit }, '--limit');
    } catch (e) {
      program.error(`error: option '--limit' is invalid. ${(e as Error).message}`);
    }
  }
  let tls: { cert: string; key: string } | undefined;
  try {
    tls = flags.tlsCert && flags.tlsKey ? readTls(flags.tlsCert, flags.tlsKey) : undefined;
  } catch (e) {
    program.error(`error: ${(e as Error).message}`);
  }
  const log = createLogger(flags.logLevel);
  let secretKey: string;
  try {
    // A cluster node never makes a key: it would differ from the other nodes' (their UserSigs and relays).
    if (flags.redis && !flags.secretKey && !existsSync(path.resolve(flags.data, SECRET_FILE))) {
      throw new Error(`--redis needs the cluster's secret key: give the same --secret-key (or STATUS_ENGINE_SECRET_KEY) to every node, or put it in ${path.resolve(flags.data, SECRET_FILE)}`);
    }
    const k = resolveSecretKey({ secretKey: flags.secretKey, data: flags.data, store: flags.store, newSecretKey: flags.newSecretKey }, flags.redis ? 'mint' : 'serve');
    secretKey = k.key;
    if (k.source === 'ephemeral') {
      log.warn('secret key: none given and none in the data directory; with --store memory a key is made for this process only (UserSigs die with it; give --secret-key or STATUS_ENGINE_SECRET_KEY to keep them)');
    } else if (k.replacedLost) {
      const line = `a NEW secret key was made in ${k.file}, next to existing data: every UserSig issued with the lost key is refused from now on`;
      log.error({ file: k.file }, line);
      process.stderr.write(`status-engine: WARNING: ${line}\n`);
    } else if (k.source === 'created') log.info({ file: k.file }, 'created a new secret key for UserSigs (keep it private; `status-engine usersig` reads it)');
    else if (k.source === 'file') log.info({ file: k.file }, 'secret key for UserSigs loaded');
    if (k.wasLoose) log.warn({ file: k.file }, 'the secret key file could be read by others: tightened to 0600, but it may have leaked; consider a new key');
  } catch (e) {
    program.error(`error: ${(e as Error).message}`);
  }
  if (flags.clock === 'simulated') log.warn('clock: simulated (time moves only through POST /v4/test/advance; for tests, never for production)');
  const settings: ConfigChange = {};
  if (flags.edition) settings.edition = flags.edition;
  if (flags.switch) settings.switches = flags.switch;
  if (flags.limit) settings.limits = flags.limit as ConfigChange['limits'];

  // Signals are heard from the start: one that comes while starting stops the server once it is up. The first
  // drains (/readyz says 503, everything still served) for --drain-ms, a second one closes at once, a third exits.
  let server: RunningServer | null = null;
  let phase: 'running' | 'draining' | 'closing' = 'running';
  let pending: string | null = null;
  let drainTimer: NodeJS.Timeout | null = null;
  const close = () => {
    phase = 'closing';
    if (drainTimer) clearTimeout(drainTimer);
    server!.close().then(
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
  const stop = (signal: string) => {
    if (phase === 'closing') {
      log.warn({ signal }, 'another signal while closing: exiting now');
      process.exit(1);
    }
    if (phase === 'draining') {
      log.warn({ signal }, 'second signal: closing now');
      return close();
    }
    if (!server) {
      pending = signal;
      return;
    }
    if (flags.drainMs > 0) {
      phase = 'draining';
      server.drain();
      log.info({ signal, drainMs: flags.drainMs }, 'draining: not ready (/readyz 503), still serving; closing after the drain period');
      drainTimer = setTimeout(close, flags.drainMs);
    } else {
      log.info({ signal }, 'shutting down');
      close();
    }
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // What no front-end caught: logged, and served past where safe, else a clean exit (docs/server.md).
  (await import('./lastResort')).installLastResort({ log, shutdown: async () => void (await server?.close()) });

  const store = flags.redis ? undefined : await openStore(flags, log);
  const cluster = flags.redis ? await joinCluster(flags, settings, log) : undefined;
  try {
    server = await startServer({
      ...(cluster ? { cluster } : {}),
      host: flags.host,
      port: flags.port,
      store,
      settings,
      clock: flags.clock,
      sdkAppId: flags.sdkappid,
      secretKey: secretKey!,
      logger: log,
      heartbeatMs: flags.heartbeatMs,
      ...(flags.requestRate !== undefined || flags.requestBurst !== undefined
        ? { requestBudget: { ...DEFAULT_REQUEST_BUDGET, ...(flags.requestRate !== undefined ? { ratePerSec: flags.requestRate } : {}), ...(flags.requestBurst !== undefined ? { burst: flags.requestBurst } : {}) } }
        : {}),
      ...(flags.pendingPerAddress !== undefined || flags.pendingLoopback || flags.pendingTotal !== undefined
        ? {
            pendingLogins: {
              perAddress: flags.pendingPerAddress ?? DEFAULT_PENDING_LIMITS.perAddress,
              exempt: flags.pendingLoopback ? [] : DEFAULT_PENDING_LIMITS.exempt,
              total: flags.pendingTotal ?? DEFAULT_PENDING_LIMITS.total,
            },
          }
        : {}),
      ...(flags.trustProxy?.length ? { trustProxy: flags.trustProxy } : {}),
      healthDetail: flags.healthzDetail,
      bodyLimit: flags.bodyLimit,
      webhook: flags.webhook ? { url: flags.webhook, secret: flags.webhookSecret } : undefined,
      tls,
      allowedOrigins: flags.allowedOrigins,
      processMetrics: true,
      inspect: inspectFromFlags(flags),
    });
  } catch (err) {
    store?.close();
    await cluster?.addresses.close();
    await cluster?.close().catch(() => undefined);
    throw err;
  }
  process.stdout.write(`listening on ${server.url}\n`);
  log.info({ url: server.url, sdkAppId: flags.sdkappid, ...(server.cluster ? { node: server.cluster.health() } : { settings: server.core.settings() }) }, 'serving');
  if (pending) stop(`${pending} during start`);
}

export interface ProgramIO {
  /** Where printed results go (the UserSig, help). Default stdout. */
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Throw a CommanderError instead of exiting (tests). */
  exitOverride?: boolean;
}

/** The environment, then --config FILE, under the flags (flags > env > file > defaults): before each action. */
function configHook(program: Command, ignoreUnknown: boolean) {
  return (_: Command, cmd: Command) => {
    try {
      applyEnvironment(cmd);
      const file = cmd.getOptionValue('config') as string | undefined;
      if (file) applyConfigFile(cmd, file, { ignoreUnknown });
    } catch (e) {
      program.error(`error: ${(e as Error).message}`);
    }
  };
}

export function buildProgram(io: ProgramIO = {}): Command {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const errOut = io.err ?? ((s: string) => void process.stderr.write(s));
  const program = new Command('status-engine')
    .description('A user-presence engine: Tencent Cloud IM user status, served (docs/server.md and docs/operations.md in the package)')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: out, writeErr: errOut, outputError: (s, write) => write(s) });
  if (io.exitOverride) program.exitOverride();

  const serveCmd = program
    .command('serve')
    .description('serve the client protocol (/ws), the Web SDK protocol (/binfo), the admin REST API (/v4), /healthz, /readyz, /metrics and /openapi.json on one port. Every flag can also be set as STATUS_ENGINE_<FLAG> or in --config FILE; flags win over the environment, the environment over the file')
    .option('--config <file>', 'read settings from a JSON or YAML file (keys: the flag names)')
    .option('--host <host>', 'address to listen on', DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0 picks a free one)', flagParser('port'), DEFAULTS.port)
    .option('--data <dir>', 'data directory (database and secret key)', DEFAULT_DATA)
    .addOption(new Option('--store <kind>', 'where state lives').choices(['sqlite', 'memory']).default('sqlite'))
    .addOption(new Option('--edition <edition>', 'the app edition (applied at start)').choices([...EDITIONS]))
    .option('--switch <name=on|off>', 'a console switch: userStatus, friendStatusNotify (repeatable; comma-separated in the environment)', flagParser('switch'))
    .option('--limit <name=value>', 'a limit of the engine\'s Defaults, e.g. subscriptionQuota=100 or rateLimit.requests=50 (repeatable)', flagParser('limit'))
    .option('--sdkappid <n>', 'the SDKAppID UserSigs must be made for', flagParser('sdkappid'), DEFAULTS.sdkAppId)
    .option('--secret-key <key>', 'the key UserSigs are signed with, 16 characters or more (default: <data>/secret.key, created on first start); prefer the environment variable: arguments show in ps')
    .option('--new-secret-key', 'allow making a new secret key next to existing data whose key is lost (every UserSig issued so far stops working)')
    .option('--webhook <url>', 'post State.StateChange callbacks here (EXT-8)', flagParser('webhook'))
    .option('--webhook-secret <secret>', 'sign webhook posts with HMAC-SHA256 under this secret')
    .option('--tls-cert <file>', 'serve HTTPS and WSS with this PEM certificate (chain) file; needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--allowed-origins <list>', 'browser origins allowed to call the REST API (CORS) and to open WebSockets, comma-separated, or * (default: any; non-browser clients send none and are not affected)', flagParser('allowed-origins'))
    .option('--body-limit <bytes>', 'the largest admin REST body accepted', flagParser('body-limit'), DEFAULTS.bodyLimit)
    .option('--request-rate <n>', `requests per second each client socket may send on average (default ${DEFAULT_REQUEST_BUDGET.ratePerSec}); over it they are refused (2996), and a client that keeps on is cut`, flagParser('request-rate'))
    .option('--request-burst <n>', `requests a client socket may send at once (default ${DEFAULT_REQUEST_BUDGET.burst})`, flagParser('request-burst'))
    .option('--pending-per-address <n>', `sockets one address may hold open before they log in (default ${DEFAULT_PENDING_LIMITS.perAddress}; 0: no cap); one more is refused at the upgrade (HTTP 429). Behind a proxy, that is the proxy's address`, flagParser('pending-per-address'))
    .option('--pending-total <n>', `sockets not logged in from all addresses together (default ${DEFAULT_PENDING_LIMITS.total}: half this process's limit on open files; 0: no cap); then the oldest open 10 s or more is closed to make room, else the upgrade is refused (HTTP 503); logged-in sockets are not affected`, flagParser('pending-total'))
    .option('--trust-proxy <list>', "load balancers and proxies whose X-Forwarded-For names the client, comma-separated: addresses, CIDRs (10.0.0.0/8, fd00::/8), 'loopback', 'private' (default: none). Only on connections from them is the header read (its rightmost address that is not one of them): the per-address cap, log lines and the audit log then see the client", flagParser('trust-proxy'))
    .option('--pending-loopback', 'count loopback addresses too (they are exempt by default: benchmarks, a balancer on the same host)')
    .addOption(new Option('--healthz-detail <who>', "who gets /healthz's counts, node names and addresses: 'admin' (the admin REST API's proof in the query: sdkappid, identifier=administrator, usersig) or 'public' (anyone: a port only operators reach); without them /healthz says only status and mode").choices(['admin', 'public']).default('admin'))
    .option('--heartbeat-ms <ms>', 'how often each client socket must speak (clients ping at half this)', flagParser('heartbeat-ms'), DEFAULTS.heartbeatMs)
    .option('--journal-keep <n>', 'with --data: keep the newest n journal entries on disk (and a replay start); default all', flagParser('journal-keep'))
    .option('--journal-keep-ms <ms>', 'with --data: keep no journal entry older than this (by the engine clock); default all', flagParser('journal-keep-ms'))
    .option('--drain-ms <ms>', 'on SIGTERM/SIGINT, report not ready (/readyz 503) and keep serving this long before closing', flagParser('drain-ms'), 0)
    .addOption(new Option('--clock <clock>', 'tests only: "simulated" stops time until POST /v4/test/advance and enables /v4/test/*').choices(['system', 'simulated']).default('system'))
    .addOption(new Option('--log-level <level>', 'log level (the log goes to stderr)').choices([...LOG_LEVELS]).default('info'))
    .option('--redis <url>', 'cluster mode: several nodes share this Redis (redis://HOST:PORT); users\' shards are spread over the live nodes, state lives in Redis (not --data/--store); needs --node-id and the same --sdkappid and secret key on every node (docs/cluster.md)', flagParser('redis'))
    .option('--node-id <name>', 'cluster mode: this node\'s name, unique in the cluster (1-64 of A-Z a-z 0-9 _ -)', flagParser('node-id'))
    .option('--shards <n>', 'cluster mode: the number of shards users hash to (default 64); the same on every node for the life of the data', flagParser('shards'))
    .option('--advertise <url>', 'cluster mode: the ws:// address other nodes reach this node at, to relay clients whose users it owns (default ws://HOST:PORT as it listens)', flagParser('advertise'))
    .option('--lease-ms <ms>', `cluster mode: how long a shard's lease and a node's membership last without renewal (default ${DEFAULT_LEASE_MS}); a dead node's shards move after about twice this`, flagParser('lease-ms'))
    .option('--init', 'start with an empty store when the database file is a 0-byte file (otherwise refused as corrupt)')
    .addOption(inspectCliOptions()[0]!)
    .addOption(inspectCliOptions()[1]!)
    .hook('preAction', configHook(program, false))
    .hook('preAction', (_, cmd) => unknownEnvironment(cmd).forEach((w) => errOut(`status-engine: warning: ${w}\n`)))
    .action(async (flags: ServeFlags & { inspect?: string; inspectUsers?: string }) => {
      if (flags.inspectUsers !== undefined && flags.inspect === undefined) program.error('error: --inspect-users needs --inspect ws://HOST:PORT');
      // Secrets are checked here, not by commander, whose refusal would print the value.
      for (const [key, value] of [['secret-key', flags.secretKey], ['webhook-secret', flags.webhookSecret]] as const) {
        if (value === undefined) continue;
        try {
          parseValue(key, value, `option '--${key}'`);
        } catch (e) {
          program.error(`error: ${(e as Error).message}`);
        }
      }
      const whole = checkWhole({
        webhook: flags.webhook,
        'webhook-secret': flags.webhookSecret,
        'tls-cert': flags.tlsCert,
        'tls-key': flags.tlsKey,
        redis: flags.redis,
        'node-id': flags.nodeId,
        shards: flags.shards,
        advertise: flags.advertise,
        'lease-ms': flags.leaseMs,
        clock: flags.clock,
      });
      if (whole) program.error(`error: ${whole}`);
      // State lives in Redis in cluster mode: a store named on purpose would be silently unused.
      const storeSource = serveCmd.getOptionValueSource('store');
      if (flags.redis && storeSource !== undefined && storeSource !== 'default') program.error("error: --store has no effect with --redis (the cluster's state lives in Redis); leave it out");
      await serve(flags, program);
    });

  const checkCmd = program
    .command('check')
    .description("check the store with PRAGMA integrity_check (server stopped); exit 0 sound, 1 damaged, 2 could not check. Reads the data directory as serve does: --data, STATUS_ENGINE_DATA, --config")
    .option('--config <file>', 'the serve config file to read data from (its other keys are ignored)')
    .option('--data <dir>', 'data directory', DEFAULT_DATA)
    .option('--backup <file>', 'when sound, also write a consistent copy of the store to <file>')
    .hook('preAction', configHook(program, true))
    .action(async (flags: { data: string; backup?: string }) => {
      const { checkCommand } = await import('../store/integrity');
      process.exitCode = await checkCommand(flags.data, { backup: flags.backup, out, err: errOut });
    });

  const usersigCmd = program
    .command('usersig')
    .description('print a UserSig for <userID>, signed with the server key (administrator is the admin identity); reads the key as serve does: --secret-key, STATUS_ENGINE_SECRET_KEY, --config, <data>/secret.key')
    .argument('<userID>', 'the user (or "administrator" for the REST API)')
    .option('--config <file>', 'the serve config file to read secret-key, data and sdkappid from (its other keys are ignored)')
    .option('--expire <seconds>', 'lifetime in seconds', integer('--expire', 1, 100 * 365 * 86400), DEFAULT_EXPIRE)
    .option('--data <dir>', 'data directory holding secret.key', DEFAULT_DATA)
    .option('--secret-key <key>', 'the key to sign with (instead of <data>/secret.key)')
    .option('--sdkappid <n>', 'the SDKAppID', flagParser('sdkappid'), DEFAULTS.sdkAppId)
    .hook('preAction', configHook(program, true))
    .action((userID: string, flags: { expire: number; data: string; secretKey?: string; sdkappid: number }) => {
      if (userID.length === 0) program.error('error: <userID> must not be empty');
      let key: string;
      try {
        key = resolveSecretKey({ secretKey: flags.secretKey, data: flags.data }, 'mint').key;
      } catch (e) {
        program.error(`error: ${(e as Error).message}`);
      }
      out(`${genUserSig({ sdkAppId: flags.sdkappid, secretKey: key!, identifier: userID, expireSeconds: flags.expire })}\n`);
    });

  registerConformance(program, { out, err: io.err, exitOverride: io.exitOverride }); // src/conformance/cli.ts

  // Every flag also from STATUS_ENGINE_<FLAG> (after all flags are declared, whoever declared them).
  addEnvironment(serveCmd);
  addEnvironment(usersigCmd, ['secret-key', 'data', 'sdkappid', 'config']);
  addEnvironment(checkCmd, ['data', 'config']);
  return program;
}
