// Red team: /healthz told anyone the user count, the seq, connection and device counts and, in cluster mode,
// node names, live nodes, the advertised internal address and Redis's last error (session 10's finding 9).
// Now anyone gets liveness only ({status, mode}, and the cluster's 503 while Redis is away); the detail needs
// the admin proof in the query (as the REST API) or `--healthz-detail public` (a port only operators reach).
import { afterEach, describe, expect, it } from 'vitest';
import { SDK_APP_ID, adminQuery, sig, startServerProcess } from '../proc';
import { startInProcess, type TestServer } from '../wire';
import { cliRefusal } from './upgrade';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('/healthz', () => {
  it('says only status and mode to anyone; the counts with the admin proof; a wrong proof is refused (403, its code)', async () => {
    s = await startInProcess();
    expect(await get(`${s.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok', mode: 'single' } });
    const full = await get(`${s.url}/healthz?${adminQuery()}`);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ status: 'ok', mode: 'single', store: 'memory', users: expect.any(Number), connections: 0, seq: expect.any(Number) });

    const q = (o: Record<string, string>) => new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), ...o });
    const forged = await get(`${s.url}/healthz?${q({ usersig: 'x'.repeat(40) })}`);
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70003 });
    expect(forged.body.users).toBeUndefined();
    const notAdmin = await get(`${s.url}/healthz?${q({ identifier: 'alice', usersig: sig('alice') })}`);
    expect(notAdmin).toMatchObject({ status: 403, body: { ErrorCode: 70403 } });
    const otherApp = await get(`${s.url}/healthz?${q({ sdkappid: '1' })}`);
    expect(otherApp).toMatchObject({ status: 403, body: { ErrorCode: 70020 } });
    // Repeated parameters (arrays) prove nothing.
    const twice = await get(`${s.url}/healthz?${q({})}&usersig=again`);
    expect(twice.status).toBe(403);
  });

  it("healthDetail 'public' gives the counts to anyone (the old answer)", async () => {
    s = await startInProcess({ healthDetail: 'public' });
    const h = await get(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', mode: 'single', users: expect.any(Number), connections: 0 });
  });
});

describe('serve --healthz-detail', () => {
  it('public on the real executable; a bad value is refused at start', async () => {
    const proc = await startServerProcess(['--healthz-detail', 'public', '--store', 'memory']);
    try {
      expect((await get(`${proc.url}/healthz`)).body).toMatchObject({ status: 'ok', users: expect.any(Number) });
    } finally {
      await proc.stop();
    }
    const admin = await startServerProcess(['--store', 'memory']);
    try {
      expect((await get(`${admin.url}/healthz`)).body).toEqual({ status: 'ok', mode: 'single' });
    } finally {
      await admin.stop();
    }
    const { code, err } = await cliRefusal(['serve', '--healthz-detail', 'everyone']);
    expect(code).toBe(1);
    expect(err).toMatch(/--healthz-detail/);
  });
});
