// The operator's endpoints of one in-process server: /metrics read back by a Prometheus text parser after
// real traffic (logins, changes, a fan-out, refusals, a failing webhook), /openapi.json equal to the shipped
// docs/openapi.json, the browser-origin rule on HTTP (CORS) and on the WebSocket upgrade, the audit line
// of each admin call, and the string switch values docs/server.md promises.
import fs, { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, EVENT, type Client } from '../../src/index';
import { ServerMetrics } from '../../src/server/metrics';
import { buildOpenApi } from '../../src/server/openapi';
import { startServer, type RunningServer } from '../../src/server/server';
import { genUserSig } from '../../src/server/usersig';
import { SqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { tempDir } from '../store/tmp';

const SECRET = 'metrics-test-secret-0123456789abcdef';
const APP = 1400000333;
const ALLOWED = 'https://app.example.com';
const sig = (id: string) => genUserSig({ sdkAppId: APP, secretKey: SECRET, identifier: id, expireSeconds: 600 });

let server: RunningServer;
const lines: Array<Record<string, any>> = [];
const clients: Client[] = [];

const rest = async (command: string, body: unknown, usersig = sig('administrator'), headers: Record<string, string> = {}) => {
  const q = new URLSearchParams({ sdkappid: String(APP), identifier: 'administrator', usersig, random: '1', contenttype: 'json' });
  const res = await fetch(`${server.url}/v4/${command}?${q}`, { method: 'POST', body: JSON.stringify(body), headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
};

type Family = { name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }> };
const scrape = async (): Promise<Map<string, Family>> => {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
};
const value = (m: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
  Number(m.get(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))?.value ?? NaN);

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, any>);
      done();
    },
  });
  server = await startServer({
    port: 0,
    sdkAppId: APP,
    secretKey: SECRET,
    logger: pino({ level: 'info' }, sink),
    settings: { switches: { userStatus: true } },
    allowedOrigins: [ALLOWED],
    // Nothing listens on port 9: every post fails, and the metrics say so.
    webhook: { url: 'http://127.0.0.1:9/hook', baseDelayMs: 60_000 },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  await server?.close();
});

describe('/metrics', () => {
  it('reads back with a Prometheus parser: connections, logins, changes by reason, notifications, fan-out, refusals, commit latency, webhook, event-loop lag', async () => {
    expect((await rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob', 'carol'] })).body.ActionStatus).toBe('OK');
    const alice = createClient({ url: server.url, reconnect: false });
    const bob = createClient({ url: server.url, reconnect: false, platform: 'android' });
    const carol = createClient({ url: server.url, reconnect: false });
    clients.push(alice, bob, carol);
    const heard = new Promise<void>((ok) => carol.on(EVENT.USER_STATUS_UPDATED, ({ data }) => data.some((s) => s.customStatus === 'm') && ok()));
    await alice.login({ userID: 'alice', userSig: sig('alice') });
    await bob.login({ userID: 'bob', userSig: sig('bob') });
    await carol.login({ userID: 'carol', userSig: sig('carol') });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    await carol.subscribeUserStatus({ userIDList: ['alice'] });
    await alice.setSelfStatus({ customStatus: 'm' });
    await heard;
    // Refusals: a forged UserSig at login (client protocol) and over REST, and an unknown user.
    await expect(createClient({ url: server.url, reconnect: false }).login({ userID: 'alice', userSig: 'forged' })).rejects.toMatchObject({ code: 70003 });
    expect((await rest('im_open_status/config', {}, 'forged')).body.ErrorCode).toBe(70003);
    await expect(alice.getUserStatus({ userIDList: ['nobody'] })).resolves.toMatchObject({ data: { failureUserList: [{ code: 70107 }] } });

    const m = await scrape();
    for (const name of m.keys()) expect(name).toMatch(/^status_engine_/);
    expect(value(m, 'status_engine_connections', { protocol: 'client' })).toBe(3);
    expect(value(m, 'status_engine_connections', { protocol: 'sdk' })).toBe(0);
    expect(value(m, 'status_engine_connections_opened_total', { protocol: 'client' })).toBe(4);
    expect(value(m, 'status_engine_users_registered')).toBe(3);
    expect(value(m, 'status_engine_logins_total', { platform: 'web' })).toBe(2);
    expect(value(m, 'status_engine_logins_total', { platform: 'android' })).toBe(1);
    expect(value(m, 'status_engine_status_changes_total', { reason: 'custom_status_set' })).toBe(1);
    expect(value(m, 'status_engine_status_changes_total', { reason: 'login' })).toBeGreaterThanOrEqual(3);
    // alice's custom status reached bob and carol (and alice's own device): one fan-out of 3 recipient users.
    expect(value(m, 'status_engine_notifications_sent_total')).toBeGreaterThanOrEqual(3);
    const fanout = m.get('status_engine_fanout_recipients')!.metrics[0]!;
    expect(Number(fanout.count)).toBeGreaterThanOrEqual(1);
    expect(Number(fanout.buckets!['5'])).toBeGreaterThan(Number(fanout.buckets!['2']) - 1);
    expect(value(m, 'status_engine_refusals_total', { protocol: 'client', code: '70003' })).toBe(1);
    expect(value(m, 'status_engine_refusals_total', { protocol: 'rest', code: '70003' })).toBe(1);
    expect(m.get('status_engine_store_commit_seconds')!.type).toBe('HISTOGRAM');
    expect(Number(m.get('status_engine_store_commit_seconds')!.metrics[0]!.count)).toBeGreaterThan(5);
    expect(m.get('status_engine_webhook_queue')!.type).toBe('GAUGE');
    expect(value(m, 'status_engine_webhook_queue')).toBeGreaterThan(0);
    expect(value(m, 'status_engine_event_loop_lag_seconds', { stat: 'p99' })).toBeGreaterThanOrEqual(0);
  });

  it('the webhook failures counter follows the webhook (a post to a closed port fails)', async () => {
    let failures = 0;
    for (let i = 0; i < 200 && failures === 0; i++) {
      failures = value(await scrape(), 'status_engine_webhook_failures_total');
      if (failures === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(failures).toBeGreaterThanOrEqual(1);
  });
});

describe('the audit log', () => {
  it('has one line per admin call: who, from where, what, whom, the result and its code', () => {
    const audit = lines.filter((l) => l.part === 'audit');
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', ip: '127.0.0.1', what: 'im_open_login_svc/multiaccount_import', users: ['alice', 'bob', 'carol'], result: 'OK', code: 0 }));
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', what: 'im_open_status/config', result: 'FAIL', code: 70003 }));
    for (const a of audit) expect(typeof a.ms).toBe('number');
    // No UserSig in the log.
    expect(JSON.stringify(audit)).not.toContain(sig('administrator').slice(0, 20));
  });

  it('the audit reads (explain, journal) leave their line too, and a forged proof on them is counted as a REST refusal', async () => {
    const before = value(await scrape(), 'status_engine_refusals_total', { protocol: 'rest', code: '70003' });
    expect((await rest('im_open_status/explain', { UserID: 'alice' })).body.ActionStatus).toBe('OK');
    expect((await rest('im_open_status/journal', { Limit: 5 })).body.ActionStatus).toBe('OK');
    expect((await rest('im_open_status/journal', {}, 'forged')).body.ErrorCode).toBe(70003);
    expect((await rest('im_open_status/explain', { UserID: 7 })).body.ErrorCode).toBe(70402);
    const audit = lines.filter((l) => l.part === 'audit');
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', ip: '127.0.0.1', what: 'im_open_status/explain', users: ['alice'], result: 'OK', code: 0 }));
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', what: 'im_open_status/journal', result: 'OK', code: 0 }));
    expect(audit).toContainEqual(expect.objectContaining({ who: 'administrator', what: 'im_open_status/journal', result: 'FAIL', code: 70003 }));
    expect(audit).toContainEqual(expect.objectContaining({ what: 'im_open_status/explain', result: 'FAIL', code: 70402 }));
    // /metrics serves one rendering for METRICS_REUSE_MS (1 s of real time): scrape until a fresh one.
    let after = before;
    for (let i = 0; i < 300 && after === before; i++) {
      after = value(await scrape(), 'status_engine_refusals_total', { protocol: 'rest', code: '70003' });
      if (after === before) await new Promise((r) => setTimeout(r, 10));
    }
    expect(after).toBe(before + 1);
  });
});

describe('/openapi.json', () => {
  it('is the document generated from the REST schemas, and docs/openapi.json is the same (npm run docs:openapi)', async () => {
    const served = (await (await fetch(`${server.url}/openapi.json`)).json()) as Record<string, any>;
    expect(served).toEqual(buildOpenApi());
    expect(served.openapi).toMatch(/^3\./);
    expect(Object.keys(served.paths)).toContain('/v4/openim/query_online_status');
    expect(served.paths['/v4/im_open_login_svc/multiaccount_import'].post.requestBody.content['application/json'].schema.required).toEqual(['Accounts']);
    const shipped = JSON.parse(readFileSync(join(resolve(__dirname, '../..'), 'docs/openapi.json'), 'utf8'));
    expect(shipped).toEqual(served);
  });

  it('names the audit reads and the backup too, and every path it names is a route of the server (none is a 404)', async () => {
    const paths = Object.keys(buildOpenApi().paths as Record<string, unknown>);
    expect(paths).toEqual(expect.arrayContaining(['/v4/im_open_status/explain', '/v4/im_open_status/journal', '/v4/im_open_status/backup']));
    for (const path of paths) {
      const res = await rest(path.slice('/v4/'.length), {});
      expect(res.status, path).toBe(200);
      expect(String(res.body.ErrorInfo), path).not.toMatch(/unknown command|no such endpoint/);
    }
  });
});

describe('--allowed-origins', () => {
  it('HTTP: an allowed origin gets CORS headers and its preflight; another origin is refused before the route runs', async () => {
    const ok = await rest('im_open_status/config', {}, undefined, { origin: ALLOWED });
    expect(ok.body.ActionStatus).toBe('OK');
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const pre = await fetch(`${server.url}/v4/im_open_status/config`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const bad = await rest('im_open_login_svc/account_import', { UserID: 'mallory' }, undefined, { origin: 'https://evil.example' });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    expect((await rest('openim/query_online_status', { To_Account: ['mallory'] })).body.ErrorList).toEqual([expect.objectContaining({ To_Account: 'mallory', ErrorCode: 70107 })]);
    // No Origin header: not a browser, not refused.
    expect((await rest('im_open_status/config', {})).status).toBe(200);
  });

  it('WebSocket: the upgrade from another origin is refused (403); from an allowed one, or with no Origin, it opens', async () => {
    const open = (origin?: string) =>
      new Promise<string>((ok) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?v=1&deviceId=device-origin&platform=web`, origin ? { origin } : {});
        ws.once('open', () => {
          ws.close();
          ok('open');
        });
        ws.once('unexpected-response', (_req, res) => ok(String(res.statusCode)));
        ws.once('error', () => undefined);
      });
    expect(await open('https://evil.example')).toBe('403');
    expect(await open(ALLOWED)).toBe('open');
    expect(await open()).toBe('open');
  });
});

describe('REST switch values', () => {
  it('"1"/"0", "true"/"false", "on"/"off" (any case), booleans and 1/0 all work, as docs/server.md says; "yes" is refused', async () => {
    const set = async (v: unknown) => (await rest('im_open_status/config', { Switches: { FriendStatusNotify: v } })).body;
    for (const [v, want] of [['1', 'on'], ['0', 'off'], ['true', 'on'], ['False', 'off'], ['ON', 'on'], ['off', 'off'], [true, 'on'], [0, 'off']] as const) {
      expect((await set(v)).Switches, String(v)).toMatchObject({ FriendStatusNotify: want });
    }
    expect(await set('yes')).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402 });
  });
});

describe('/metrics: the journal and the file it grows (SQLite with a retention)', () => {
  it('counts the entries kept, the store file, and the last retention pass (its time and what it dropped)', async () => {
    const tmp = tempDir('status-engine-metrics-');
    const store = new SqliteStore(tmp.file(), { journalRetention: { maxEntries: 20, slackEntries: 10 } });
    const s = await startServer({ port: 0, sdkAppId: APP, secretKey: SECRET, logger: pino({ level: 'silent' }), settings: { switches: { userStatus: true } }, store });
    try {
      const read = async () => {
        const families = parsePrometheusTextFormat(await (await fetch(`${s.url}/metrics`)).text()) as Family[];
        return new Map(families.map((f) => [f.name, f]));
      };
      const q = new URLSearchParams({ sdkappid: String(APP), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
      expect(store.lastCompaction).toBeNull(); // no pass yet (and /metrics answers one scrape a second: one read below)
      // One journal entry per import: past 20 + 10 entries a pass keeps the newest 20.
      for (let i = 0; i < 45; i++) {
        const res = await fetch(`${s.url}/v4/im_open_login_svc/account_import?${q}`, { method: 'POST', body: JSON.stringify({ UserID: `m${i}` }) });
        expect(((await res.json()) as { ErrorCode: number }).ErrorCode).toBe(0);
      }
      const m = await read();
      expect(value(m, 'status_engine_journal_entries')).toBe(store.lastSeq() - store.firstSeq() + 1);
      expect(value(m, 'status_engine_journal_entries')).toBeLessThanOrEqual(30);
      expect(store.lastSeq()).toBeGreaterThanOrEqual(45);
      const pass = store.lastCompaction;
      expect(pass && 'ms' in pass).toBe(true);
      expect(value(m, 'status_engine_journal_compaction_dropped')).toBe((pass as { dropped: number }).dropped);
      expect(value(m, 'status_engine_journal_compaction_dropped')).toBeGreaterThan(0);
      expect(value(m, 'status_engine_journal_compaction_seconds')).toBeCloseTo((pass as { ms: number }).ms / 1000, 9);
      expect(value(m, 'status_engine_journal_compaction_step_seconds')).toBeCloseTo((pass as { longestStepMs: number }).longestStepMs / 1000, 9);
      expect(value(m, 'status_engine_journal_compaction_step_seconds')).toBeGreaterThan(0);
      expect(value(m, 'status_engine_journal_compaction_failed')).toBe(0);
      const bytes = fs.statSync(tmp.file()).size + (fs.existsSync(`${tmp.file()}-wal`) ? fs.statSync(`${tmp.file()}-wal`).size : 0);
      expect(value(m, 'status_engine_store_file_bytes')).toBe(bytes);
    } finally {
      await s.close();
      tmp.remove();
    }
  });
});

describe('/metrics: a store that throws', () => {
  it('leaves its journal gauges out and the scrape whole (a store closed by the embedder first, a failing disk)', async () => {
    const broken = { lastSeq: () => { throw new Error('closed'); }, firstSeq: () => 1, fileBytes: () => { throw new Error('EIO'); }, lastCompaction: null } as unknown as Store;
    const metrics = new ServerMetrics({ connections: () => ({ client: 2, sdk: 3 }), users: () => 7, webhook: () => null, store: () => broken });
    const families = new Map((parsePrometheusTextFormat(await metrics.text()) as Family[]).map((f) => [f.name, f]));
    expect(value(families, 'status_engine_users_registered')).toBe(7);
    expect(value(families, 'status_engine_connections', { protocol: 'sdk' })).toBe(3);
    expect(families.has('status_engine_journal_entries')).toBe(true);
    metrics.close();
  });
});
