// Where serve's settings come from (flags > STATUS_ENGINE_<FLAG> > --config FILE > defaults), how a bad one
// is refused (naming the flag, the variable or the file's key), and the secret key's sources, shared by
// serve and usersig: the environment, a config file, the data directory; nothing written with
// --store memory; a lost key next to existing data refused unless --new-secret-key.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/server/program';
import { DATABASE_FILE, resolveSecretKey } from '../../src/server/secret';
import { verifyUserSig } from '../../src/server/usersig';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'se-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('STATUS_ENGINE_') && !(k in saved)) delete process.env[k];
});

const STOP = new Error('stopped before serving');

/** Parses `args` (env from `env`), returns the serve options as the action would get them; never serves. */
async function settle(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  Object.assign(process.env, env);
  const program = buildProgram({ out: () => {}, err: () => {}, exitOverride: true });
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  let seen: Record<string, unknown> = {};
  serve.hook('preAction', (_t, cmd) => {
    seen = cmd.opts();
    throw STOP;
  });
  await expect(program.parseAsync(['serve', ...args], { from: 'user' })).rejects.toBe(STOP);
  return seen;
}

/** Runs the program; resolves with what it printed and its exit code. */
async function run(args: string[], env: Record<string, string> = {}): Promise<{ out: string; err: string; code: number }> {
  Object.assign(process.env, env);
  let out = '';
  let err = '';
  const program = buildProgram({ out: (s) => (out += s), err: (s) => (err += s), exitOverride: true });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, code: 0 };
  } catch (e) {
    if (e instanceof CommanderError) return { out, err, code: e.exitCode };
    throw e;
  }
}

describe('serve settings: flags > env > file > defaults', () => {
  it('each source wins over the ones below it, key by key; switch and limit maps merge per name', async () => {
    const dir = tmp();
    const file = join(dir, 'se.yaml');
    writeFileSync(file, ['port: 7001', 'host: 0.0.0.0', 'sdkappid: 1400000001', 'switch: { userStatus: on, friendStatusNotify: off }', 'limit: { subscriptionQuota: 7 }', 'allowed-origins: [https://a.example, https://b.example]', 'heartbeatMs: 2000'].join('\n'));
    const o = await settle(['--config', file, '--port', '7003', '--switch', 'friendStatusNotify=on'], { STATUS_ENGINE_PORT: '7002', STATUS_ENGINE_SDKAPPID: '1400000002', STATUS_ENGINE_BODY_LIMIT: '2048' });
    expect(o.port).toBe(7003); // flag over env over file
    expect(o.sdkappid).toBe(1400000002); // env over file
    expect(o.host).toBe('0.0.0.0'); // file over default
    expect(o.bodyLimit).toBe(2048); // env over default
    expect(o.heartbeatMs).toBe(2000); // camelCase keys work too
    expect(o.switch).toEqual({ friendStatusNotify: true }); // the flag gave the switch map
    expect(o.limit).toEqual({ subscriptionQuota: 7 });
    expect(o.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(o.logLevel).toBe('info'); // default
  });

  it('a JSON file works the same; the environment gives lists comma-separated and booleans as on/off', async () => {
    const file = join(tmp(), 'se.json');
    writeFileSync(file, JSON.stringify({ port: 0, store: 'memory', edition: 'pro' }));
    const o = await settle(['--config', file], { STATUS_ENGINE_SWITCH: 'userStatus=on,friendStatusNotify=1', STATUS_ENGINE_NEW_SECRET_KEY: 'off', STATUS_ENGINE_ALLOWED_ORIGINS: '*' });
    expect(o).toMatchObject({ port: 0, store: 'memory', edition: 'pro', switch: { userStatus: true, friendStatusNotify: true }, newSecretKey: false, allowedOrigins: ['*'] });
  });

  it('a bad value is refused naming the flag, the variable or the file and key; an unknown key names the known ones', async () => {
    const dir = tmp();
    const bad = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--port', 'x'], {}, /--port must be a whole number, got 'x'/],
      [[], { STATUS_ENGINE_PORT: '99999' }, /the environment variable STATUS_ENGINE_PORT must be between 0 and 65535, got 99999/],
      [[], { STATUS_ENGINE_STORE: 'redis' }, /STATUS_ENGINE_STORE must be one of sqlite, memory/],
      [['--config', bad('a.yaml', 'port: lots')], {}, /a\.yaml: key 'port' must be a whole number, got 'lots'/],
      [['--config', bad('b.yaml', 'prot: 80')], {}, /b\.yaml: unknown key 'prot' \(known: .*port/],
      [['--config', bad('c.yaml', 'switch: { userStatus: maybe }')], {}, /c\.yaml: key 'switch' userStatus must be on or off/],
      [['--config', bad('d.yaml', 'allowed-origins: [https://a.example/path]')], {}, /d\.yaml: key 'allowed-origins' must be \* or origins/],
      [['--config', bad('e.json', '{"port": ')], {}, /e\.json is not valid JSON/],
      [['--config', bad('f.yaml', '- a list')], {}, /f\.yaml must hold one object/],
      [['--config', bad('g.yaml', 'store: disk')], {}, /g\.yaml: key 'store' must be one of sqlite, memory, got 'disk'/],
      [['--config', join(dir, 'missing.yaml')], {}, /cannot read the config file .*missing\.yaml: ENOENT/],
      [['--tls-cert', join(dir, 'x.pem')], {}, /--tls-cert and --tls-key go together/],
      [['--secret-key', 'short'], {}, /secret-key' is too short \(5 characters; at least 16\)/],
    ];
    for (const [args, env, message] of cases) {
      const r = await run(['serve', ...args], env);
      for (const k of Object.keys(env)) delete process.env[k];
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(1);
      expect(r.err, `${args.join(' ')} ${JSON.stringify(env)}`).toMatch(message);
    }
  });

  it('--version prints the version; serve --help names each variable', async () => {
    const v = await run(['--version']);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run(['serve', '--help']);
    for (const name of ['STATUS_ENGINE_PORT', 'STATUS_ENGINE_SECRET_KEY', 'STATUS_ENGINE_TLS_CERT', 'STATUS_ENGINE_DRAIN_MS', 'STATUS_ENGINE_CONFIG']) expect(help.out).toContain(name);
  });
});

describe('the secret key: the same sources for serve and usersig', () => {
  const check = (userSig: string, key: string, app = 1400000000) => verifyUserSig(userSig, 'alice', { sdkAppId: app, secretKey: key, nowMs: Date.now() });

  it('usersig reads STATUS_ENGINE_SECRET_KEY, and a --config file (secret-key, sdkappid; other keys ignored)', async () => {
    const key = 'e'.repeat(32);
    const fromEnv = await run(['usersig', 'alice', '--data', tmp()], { STATUS_ENGINE_SECRET_KEY: key });
    expect(fromEnv.code).toBe(0);
    expect(check(fromEnv.out.trim(), key)).toBe('alice');
    delete process.env.STATUS_ENGINE_SECRET_KEY;
    const file = join(tmp(), 'se.yaml');
    writeFileSync(file, `secret-key: ${'f'.repeat(32)}\nsdkappid: 1400000044\nport: 9000\nstore: memory\n`);
    const fromFile = await run(['usersig', 'alice', '--config', file]);
    expect(fromFile.code).toBe(0);
    expect(check(fromFile.out.trim(), 'f'.repeat(32), 1400000044)).toBe('alice');
  });

  it('--store memory writes no key file: the key lives in the process (or is read, never made, in the data directory)', () => {
    const dir = tmp();
    const k = resolveSecretKey({ data: dir, store: 'memory' }, 'serve');
    expect(k.source).toBe('ephemeral');
    expect(k.key).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a key missing next to an existing database is refused (the message says why and what to do); --new-secret-key makes one and says it replaced a lost one', async () => {
    const dir = tmp();
    writeFileSync(join(dir, DATABASE_FILE), '');
    const r = await run(['serve', '--data', dir, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds a database but no secret key[\s\S]*--new-secret-key/);
    expect(existsSync(join(dir, 'secret.key'))).toBe(false);
    const k = resolveSecretKey({ data: dir, store: 'sqlite', newSecretKey: true }, 'serve');
    expect(k).toMatchObject({ source: 'created', replacedLost: true });
    expect(existsSync(join(dir, 'secret.key'))).toBe(true);
    // A first start (no database) makes the key quietly, as before.
    expect(resolveSecretKey({ data: tmp(), store: 'sqlite' }, 'serve')).toMatchObject({ source: 'created', replacedLost: false });
  });
});

describe('check: the data directory from the same sources as serve', () => {
  it('reads STATUS_ENGINE_DATA and a --config file\'s data (as serve runs under systemd or in the container); no store there is "could not check" (2), not "damaged"', async () => {
    const fromEnv = tmp();
    const fromFile = tmp();
    const file = join(fromFile, 'se.yaml');
    writeFileSync(file, `data: ${fromFile}\nport: 8080\n`);
    try {
      for (const [args, env, dir] of [[['check'], { STATUS_ENGINE_DATA: fromEnv }, fromEnv], [['check', '--config', file], {}, fromFile]] as const) {
        process.exitCode = undefined;
        delete process.env.STATUS_ENGINE_DATA;
        const r = await run([...args], env);
        expect(r.err).toContain(`no store at ${join(dir, DATABASE_FILE)}`);
        expect(process.exitCode).toBe(2);
      }
    } finally {
      process.exitCode = undefined;
    }
  });
});

describe('serve: a STATUS_ENGINE_ variable that is no setting', () => {
  it('is named in a warning on stderr with the variable it may have meant (a typo would otherwise change nothing, silently)', async () => {
    Object.assign(process.env, { STATUS_ENGINE_DRAINMS: '5000', STATUS_ENGINE_PORT: '7005', STATUS_ENGINE_BENCH_CLUSTER_REPEAT: '3' });
    let err = '';
    const program = buildProgram({ out: () => {}, err: (s) => (err += s), exitOverride: true });
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    let port: unknown;
    serve.hook('preAction', (_t, cmd) => {
      port = cmd.opts().port;
      throw STOP;
    });
    await expect(program.parseAsync(['serve'], { from: 'user' })).rejects.toBe(STOP);
    expect(port).toBe(7005);
    expect(err).toMatch(/warning: STATUS_ENGINE_DRAINMS is not a setting of serve \(did you mean STATUS_ENGINE_DRAIN_MS\?\)/);
    // The variables of other tools (the benchmarks') and the real settings are not named.
    expect(err).not.toMatch(/STATUS_ENGINE_BENCH|STATUS_ENGINE_PORT/);
  });
});
