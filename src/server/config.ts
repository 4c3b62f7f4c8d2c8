// The settings of `status-engine serve` from its three sources besides the defaults: flags, environment
// variables (STATUS_ENGINE_<FLAG>) and a --config file (JSON or YAML). One zod schema checks a value from any
// of them, so a bad one is refused the same way, naming its flag, variable or key.
// Precedence: flags > env > file > defaults (commander records where each value came from).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EDITIONS } from '../../machines/spec';
import { trustEntryError } from './clientAddress';
import { LOG_LEVELS } from './defaults';

const SWITCH_NAMES = ['userStatus', 'friendStatusNotify'] as const;
const ON = /^(on|true|1)$/i;
const ON_OFF = /^(on|off|true|false|1|0)$/i;

const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/** A whole number from a file (number) or a flag or variable (string). */
const integer = (min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = String(v).trim();
    if (!/^-?\d+$/.test(s)) return fail(ctx, `must be a whole number, got '${s}'.`);
    const n = Number(s);
    if (n < min || n > max) return fail(ctx, `must be between ${min} and ${max}, got ${n}.`);
    return n;
  });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.string().transform((v, ctx) => ((values as readonly string[]).includes(v) ? (v as T[number]) : fail(ctx, `must be one of ${values.join(', ')}, got '${v}'.`)));

const text = (what: string) => z.string({ error: `must be ${what}` }).min(1, `must not be empty`);

const onOff = z.union([z.boolean(), z.literal(0), z.literal(1), z.string()]).transform((v, ctx) => {
  if (typeof v !== 'string') return v === true || v === 1;
  return ON_OFF.test(v) ? ON.test(v) : fail(ctx, `must be on or off (or true/false, 1/0), got '${v}'.`);
});

/** `userStatus=on,friendStatusNotify=off` (a flag may repeat) or, in a file, `{ userStatus: on }`. */
const switches = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
  const pairs: Array<[string, unknown]> = [];
  if (typeof v === 'string') {
    for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(part);
      if (!m || !ON_OFF.test(m[2]!)) return fail(ctx, `expected NAME=on|off (NAME: ${SWITCH_NAMES.join(', ')}), got '${part}'.`);
      pairs.push([m[1]!, m[2]]);
    }
  } else pairs.push(...Object.entries(v));
  const out: Record<string, boolean> = {};
  for (const [raw, value] of pairs) {
    const name = SWITCH_NAMES.find((k) => k.toLowerCase() === raw.toLowerCase());
    if (!name) return fail(ctx, `unknown switch '${raw}' (known: ${SWITCH_NAMES.join(', ')}).`);
    const on = onOff.safeParse(value);
    if (!on.success) return fail(ctx, `${name} ${on.error.issues[0]?.message}`);
    out[name] = on.data;
  }
  return out;
});

/** `subscriptionQuota=100,rateLimit.requests=50` or, in a file, `{ subscriptionQuota: 100 }`; the engine checks the names at start. */
const limits = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
  if (typeof v !== 'string') return v;
  const out: Record<string, unknown> = {};
  for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)(?:\.([A-Za-z]+))?=(\d+)$/.exec(part);
    if (!m) return fail(ctx, `expected NAME=NUMBER or rateLimit.requests=NUMBER, got '${part}'.`);
    if (m[2]) out[m[1]!] = { ...(out[m[1]!] as object | undefined), [m[2]]: Number(m[3]) };
    else out[m[1]!] = Number(m[3]);
  }
  return out;
});

const httpUrl = z.string().transform((v, ctx) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return fail(ctx, `must be an absolute URL, got '${v}'.`);
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? v : fail(ctx, `must be http:// or https://, got '${u.protocol}'.`);
});

/** A URL whose scheme is one of `schemes` (e.g. redis://HOST:PORT, ws://HOST:PORT). */
const urlOf = (schemes: readonly string[]) =>
  z.string().transform((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return fail(ctx, `must be an absolute URL like ${schemes[0]}//127.0.0.1:PORT, got '${v}'.`);
    }
    if (!schemes.includes(u.protocol)) return fail(ctx, `must be ${schemes.map((s) => `${s}//`).join(' or ')}, got '${u.protocol}'.`);
    if (!u.hostname) return fail(ctx, `must name a host, got '${v}'.`);
    return v;
  });

/**
 * A node's name in the cluster: in Redis keys and channels, so a short plain word ('#' separates its
 * incarnation), and no '.', which separates the fields of a relay token (src/server/cluster/relayAuth.ts).
 */
export const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const nodeId = z.string().transform((v, ctx) =>
  NODE_ID.test(v) ? v : fail(ctx, `must be 1 to 64 characters of A-Z a-z 0-9 _ - starting with a letter or digit (no '.': it separates a relay token's fields), got '${v.slice(0, 80)}'.`),
);

/** Browser origins allowed to call (CORS) and connect (WebSocket Origin): `*`, or a list of scheme://host[:port]. */
const origins = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
  const out: string[] = [];
  for (const o of list) {
    if (o === '*') {
      out.push(o);
      continue;
    }
    let u: URL | null = null;
    try {
      u = new URL(o);
    } catch {
      // reported below
    }
    if (!u || u.origin === 'null' || u.origin !== o.replace(/\/$/, '')) return fail(ctx, `must be * or origins like https://app.example.com (scheme://host[:port], no path), got '${o}'.`);
    out.push(u.origin);
  }
  return out;
});

/** Proxies whose X-Forwarded-For is believed: addresses, CIDRs, `loopback`, `private`; comma-separated or a list. */
const proxies = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const e of list) {
    const why = trustEntryError(e);
    if (why) return fail(ctx, `${why}.`);
  }
  return list;
});

/**
 * Every setting of `serve`, by flag name. Values arrive as strings (flags, variables) or as JSON/YAML values
 * (a file); each schema takes both and yields the typed value. Flags added by other parts that are not here
 * pass through their own commander parser.
 */
export const SERVE_SCHEMA = z
  .object({
    host: text('a host name or address'),
    port: integer(0, 65535),
    data: text('a directory'),
    store: oneOf(['sqlite', 'memory']),
    edition: oneOf(EDITIONS),
    switch: switches,
    limit: limits,
    sdkappid: integer(1, 2 ** 32 - 1),
    'secret-key': z.string().min(16, { error: (i) => `is too short (${String(i.input ?? '').length} characters; at least 16)` }),
    'new-secret-key': onOff,
    webhook: httpUrl,
    'webhook-secret': text('a string'),
    'body-limit': integer(1024, 1024 * 1024 * 1024),
    'heartbeat-ms': integer(100, 3_600_000),
    'journal-keep': integer(0, 1_000_000_000_000),
    'journal-keep-ms': integer(1, 100 * 365 * 86_400_000),
    'request-rate': integer(1, 1_000_000),
    'request-burst': integer(1, 1_000_000),
    'pending-per-address': integer(0, 1_000_000),
    'pending-loopback': onOff,
    'pending-total': integer(0, 10_000_000),
    'trust-proxy': proxies,
    'healthz-detail': oneOf(['admin', 'public']),
    'drain-ms': integer(0, 3_600_000),
    clock: oneOf(['system', 'simulated']),
    'log-level': oneOf(LOG_LEVELS),
    'tls-cert': text('a file name'),
    'tls-key': text('a file name'),
    'allowed-origins': origins,
    // Cluster mode (issue 13, docs/cluster.md): several nodes on one Redis.
    redis: urlOf(['redis:', 'rediss:']),
    'node-id': nodeId,
    shards: integer(1, 4096),
    advertise: urlOf(['ws:', 'wss:']),
    'lease-ms': integer(200, 600_000),
  })
  .partial();

export type ServeKey = keyof typeof SERVE_SCHEMA.shape;
type Shape = typeof SERVE_SCHEMA.shape;
export type ServeConfig = { [K in ServeKey]?: z.output<Shape[K]> };

/** The environment variable of a flag: `--secret-key` is STATUS_ENGINE_SECRET_KEY. */
export const envName = (flag: string): string => `STATUS_ENGINE_${flag.replace(/^-+/, '').replace(/-/g, '_').toUpperCase()}`;

const isKey = (k: string): k is ServeKey => k in SERVE_SCHEMA.shape;

/** One value through its key's schema; throws an Error whose message starts with `label` (the flag, variable or key). */
export function parseValue<K extends ServeKey>(key: K, raw: unknown, label: string): z.output<Shape[K]> {
  const r = (SERVE_SCHEMA.shape[key] as z.ZodType).safeParse(raw);
  if (r.success) return r.data as z.output<Shape[K]>;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `.${issue.path.join('.')}` : '';
  const message = issue?.code === 'invalid_type' || issue?.code === 'invalid_union' ? `has the wrong type (${describe(raw)})` : (issue?.message ?? 'is invalid');
  throw new Error(`${label}${where} ${message}`);
}

const describe = (v: unknown) => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v);

/** A commander argument parser for `--key`: the same schema, the flag named in the message; repeatable maps merge. */
export function flagParser(key: ServeKey) {
  return (value: string, previous?: unknown): unknown => {
    let parsed: unknown;
    try {
      parsed = parseValue(key, value, `--${key}`);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    if ((key === 'switch' || key === 'limit') && previous && typeof previous === 'object') return { ...previous, ...(parsed as object) };
    return parsed;
  };
}

/** Reads a config file: `.json` as JSON, anything else as YAML (a superset of JSON). Must hold one object. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`the config file ${file} is not valid ${path.extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`the config file ${file} must hold one object of settings (flag names as keys)`);
  return value as Record<string, unknown>;
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Sets, from the file, each setting that neither a flag nor a variable gave (flags > env > file > defaults).
 * Keys are flag names (`secret-key`; `secretKey` works too); an unknown key or a bad value is an error naming it.
 */
export function applyConfigFile(cmd: Command, file: string, opts: { ignoreUnknown?: boolean } = {}): void {
  const values = readConfigFile(file);
  const options = new Map<string, Option>(cmd.options.filter((o) => o.long).map((o) => [o.long!.slice(2), o]));
  for (const [rawKey, raw] of Object.entries(values)) {
    const key = kebab(rawKey);
    const option = options.get(key);
    if (!option || key === 'config' || key === 'help') {
      if (opts.ignoreUnknown) continue;
      const known = [...options.keys()].filter((k) => k !== 'config' && k !== 'help');
      throw new Error(`the config file ${file}: unknown key '${rawKey}' (known: ${known.join(', ')})`);
    }
    const attr = option.attributeName();
    const source = cmd.getOptionValueSource(attr);
    if (source === 'cli' || source === 'env') continue;
    const label = `the config file ${file}: key '${rawKey}'`;
    let value: unknown;
    if (isKey(key)) value = parseValue(key, raw, label);
    else if (option.parseArg) {
      try {
        value = option.parseArg(String(raw), undefined);
      } catch (e) {
        throw new Error(`${label} ${(e as Error).message}`);
      }
    } else value = raw;
    if (option.argChoices && !option.argChoices.includes(String(value))) {
      throw new Error(`${label} must be one of ${option.argChoices.join(', ')}, got '${String(value)}'.`);
    }
    cmd.setOptionValueWithSource(attr, value, 'config');
  }
}

/** Names every option of `cmd` (or those in `only`) STATUS_ENGINE_<FLAG>; the help shows it, applyEnvironment reads it. */
export function addEnvironment(cmd: Command, only?: readonly string[]): void {
  for (const o of cmd.options) {
    if (!o.long || o.long === '--help' || o.envVar) continue;
    if (only && !only.includes(o.long.slice(2))) continue;
    // Set after the option was added, so commander does not read it itself: applyEnvironment does, through
    // the same schema as the file, with messages that name the variable.
    o.envVar = envName(o.long);
  }
}

const SECRETS = new Set(['secret-key', 'webhook-secret']);

/** Sets, from the environment, each setting that no flag gave (flags > env). */
export function applyEnvironment(cmd: Command, env: NodeJS.ProcessEnv = process.env): void {
  for (const o of cmd.options) {
    const raw = o.envVar ? env[o.envVar] : undefined;
    if (raw === undefined || !o.long) continue;
    const attr = o.attributeName();
    const source = cmd.getOptionValueSource(attr);
    if (source === 'cli' || source === 'env') continue;
    const key = o.long.slice(2);
    const label = `the environment variable ${o.envVar}`;
    let value: unknown = raw;
    if (!o.required && !o.optional) value = raw === '' ? true : parseValue('new-secret-key', raw, label);
    else if (SECRETS.has(key)) value = raw;
    else if (isKey(key)) value = parseValue(key, raw, label);
    else if (o.parseArg) {
      try {
        value = o.parseArg(raw, undefined);
      } catch (e) {
        throw new Error(`${label} ${(e as Error).message}`);
      }
    }
    if (o.argChoices && !o.argChoices.includes(String(value))) throw new Error(`${label} must be one of ${o.argChoices.join(', ')}, got '${raw}'.`);
    cmd.setOptionValueWithSource(attr, value, 'env');
  }
}

/** The settings from cmd.opts(), by flag name, checked once more as a whole (what needs two keys). */
export function checkWhole(cfg: ServeConfig): string | null {
  if (cfg['webhook-secret'] && !cfg.webhook) return '--webhook-secret needs --webhook';
  if (Boolean(cfg['tls-cert']) !== Boolean(cfg['tls-key'])) return '--tls-cert and --tls-key go together (both or neither)';
  if (!cfg.redis) {
    for (const k of ['node-id', 'shards', 'advertise', 'lease-ms'] as const) if (cfg[k] !== undefined) return `--${k} needs --redis (it is a cluster setting)`;
  } else {
    if (!cfg['node-id']) return '--redis needs --node-id NAME (each node of the cluster its own name)';
    if (cfg.clock === 'simulated') return '--clock simulated cannot be used with --redis (the nodes\' leases run on real time)';
  }
  return null;
}

/** Edit distance, for the variable a typo may have meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The STATUS_ENGINE_ variables that are no setting of `cmd` (a typo changes nothing, silently, unlike a config
 * file's unknown key, which is refused), each with the variable it may have meant. The benchmarks' own
 * variables (STATUS_ENGINE_BENCH_*, STATUS_ENGINE_PROFILE_DIR of bench/cluster) are theirs, not a typo.
 */
export function unknownEnvironment(cmd: Command, env: NodeJS.ProcessEnv = process.env): string[] {
  const known = cmd.options.map((o) => o.envVar).filter((v): v is string => v !== undefined);
  return Object.keys(env)
    .filter((k) => k.startsWith('STATUS_ENGINE_') && !k.startsWith('STATUS_ENGINE_BENCH_') && k !== 'STATUS_ENGINE_PROFILE_DIR' && !known.includes(k))
    .sort()
    .map((k) => {
      const near = known.map((v) => [v, distance(k, v)] as const).sort((x, y) => x[1] - y[1])[0];
      const hint = near && near[1] <= 3 ? ` (did you mean ${near[0]}?)` : ` (the variables are those of \`${cmd.name()} --help\`)`;
      return `${k} is not a setting of ${cmd.name()}${hint}; ignored`;
    });
}
