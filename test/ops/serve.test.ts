// `status-engine serve` as an operator runs it, in one real child process: its settings from a YAML --config
// file, environment variables that win over the file and a flag that wins over both; HTTPS and WSS with a
// self-signed certificate made here; then SIGTERM: /readyz turns 503 while everything is still served for
// --drain-ms, then the process closes and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { genUserSig } from '../../src/server/usersig';

const ROOT = resolve(__dirname, '../..');
const SECRET = 'ops-test-secret-0123456789abcdef';
const FILE_APP = 1400000111;
const ENV_APP = 1400000222;

let dir: string;
let ca: string;
let proc: ChildProcess;
let url: string;
let stderr = '';
/** Resolves once `ready()` holds for what the server wrote to stderr so far (checked at each write; 10 s at most). */
function untilStderr(ready: () => boolean): Promise<void> {
  return new Promise((ok, fail) => {
    if (ready()) return ok();
    const check = () => {
      if (!ready()) return;
      clearTimeout(t);
      proc.stderr!.off('data', check);
      ok();
    };
    const t = setTimeout(() => {
      proc.stderr!.off('data', check);
      fail(new Error(`stderr never had what was waited for:\n${stderr}`));
    }, 10_000);
    proc.stderr!.on('data', check);
  });
}
let exited: Promise<number | null>;

/** GET or POST over HTTPS, trusting only the test's own certificate. */
function https(path: string, opts: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${url}${path}`, { method: opts.method ?? 'GET', ca }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

const adminQuery = () =>
  new URLSearchParams({ sdkappid: String(ENV_APP), identifier: 'administrator', usersig: genUserSig({ sdkAppId: ENV_APP, secretKey: SECRET, identifier: 'administrator', expireSeconds: 600 }), random: '7', contenttype: 'json' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'se-ops-'));
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });
  ca = pems.cert;
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  writeFileSync(
    join(dir, 'status-engine.yaml'),
    [
      '# every key is a flag name',
      'store: memory',
      `sdkappid: ${FILE_APP}          # the environment overrides it`,
      `secret-key: ${SECRET}`,
      'switch: { userStatus: on }',
      'limit: { subscriptionQuota: 42 }',
      `tls-cert: ${join(dir, 'cert.pem')}`,
      `tls-key: ${join(dir, 'key.pem')}`,
      'drain-ms: 1500',
      'log-level: silent               # the environment and then the flag override it',
    ].join('\n'),
  );
  proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', join(dir, 'status-engine.yaml'), '--log-level', 'info'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STATUS_ENGINE_PORT: '0', STATUS_ENGINE_SDKAPPID: String(ENV_APP), STATUS_ENGINE_LOG_LEVEL: 'error' },
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  url = await new Promise<string>((ok, fail) => {
    let out = '';
    const t = setTimeout(() => fail(new Error(`no listening line:\n${stderr}`)), 20_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^listening on (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(t);
        ok(m[1]!);
      }
    });
    void exited.then((code) => fail(new Error(`exited ${code}:\n${stderr}`)));
  });
}, 40_000);

afterAll(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serve from a config file, the environment and flags', () => {
  it('listens on the port from STATUS_ENGINE_PORT, over HTTPS (the file gave the certificate)', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(url).port)).toBeGreaterThan(0);
    const r = await https(`/healthz?${adminQuery()}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', store: 'memory' });
  });

  it('env beats file (the SDKAppID), file beats defaults (switch, limit), flag beats env (the log level); the audit log has the call', async () => {
    const r = JSON.parse((await https(`/v4/im_open_status/config?${adminQuery()}`, { method: 'POST', body: '{}' })).body);
    expect(r).toMatchObject({ ActionStatus: "OK", Switches: { UserStatus: 'on' }, Limits: { subscriptionQuota: 42 } });
    // The file's SDKAppID is not this server's: the environment won.
    const q = adminQuery();
    q.set('sdkappid', String(FILE_APP));
    expect(JSON.parse((await https(`/v4/im_open_status/config?${q}`, { method: 'POST', body: '{}' })).body)).toMatchObject({ ErrorCode: 70020 });
    // --log-level info (the flag) over STATUS_ENGINE_LOG_LEVEL=error: info lines, among them one audit line per call.
    // The audit line is written after the reply leaves: wait for the second call's line to reach our pipe.
    const auditLines = () =>
      stderr
        .split('\n')
        .filter((l) => l.includes('"part":"audit"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await untilStderr(() => auditLines().length >= 2);
    const audit = auditLines();
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', what: 'im_open_status/config', result: 'OK', code: 0, ip: '127.0.0.1' }));
    expect(audit).toContainEqual(expect.objectContaining({ what: 'im_open_status/config', result: 'FAIL', code: 70020 }));
  });

  it('WSS: a client socket opens on the same port with the same certificate', async () => {
    const ws = new WebSocket(`${url.replace('https', 'wss')}/ws?v=1&deviceId=device-one&platform=web`, { ca });
    const hello = await new Promise<Record<string, unknown>>((ok, fail) => {
      ws.once('message', (d: Buffer) => ok(JSON.parse(d.toString()) as Record<string, unknown>));
      ws.once('error', fail);
    });
    expect(hello.t).toBe("hello");
    ws.close();
  });

  it('/metrics of the real executable carries the process metrics too, prefixed status_engine_', async () => {
    const r = await https('/metrics');
    expect(r.status).toBe(200);
    const names = (parsePrometheusTextFormat(r.body) as Array<{ name: string }>).map((f) => f.name);
    expect(names).toContain('status_engine_process_cpu_user_seconds_total');
    expect(names).toContain('status_engine_connections');
    expect(names.filter((n) => !n.startsWith('status_engine_'))).toEqual([]);
  });

  it('SIGTERM: /readyz turns 503 while /healthz and the REST API still answer, then after --drain-ms it exits 0', async () => {
    expect((await https('/readyz')).status).toBe(200);
    const t0 = Date.now();
    proc.kill('SIGTERM');
    let ready = 200;
    while (ready === 200 && Date.now() - t0 < 1000) ready = (await https('/readyz')).status;
    expect(ready).toBe(503);
    expect(JSON.parse((await https('/readyz')).body)).toEqual({ status: 'draining' });
    expect((await https('/healthz')).status).toBe(200);
    expect(JSON.parse((await https(`/v4/im_open_status/config?${adminQuery()}`, { method: 'POST', body: '{}' })).body)).toMatchObject({ ActionStatus: 'OK' });
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  }, 20_000);
});
