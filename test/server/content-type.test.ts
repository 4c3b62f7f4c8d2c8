// Issue 9 #6 (low): the REST API reads any Content-Type as the docs say, even one Fastify cannot parse.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SDK_APP_ID, sig } from './proc';
import { startInProcess, type TestServer } from './wire';

let s: TestServer;
beforeAll(async () => {
  s = await startInProcess();
});
afterAll(() => s.close());

it('a body under any Content-Type, malformed ones included, is read as JSON text', async () => {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1' });
  for (const ct of ['application/json', 'text/plain', 'weird', ';;;', '', 'application/json, text/plain', 'multipart/form-data']) {
    const res = await fetch(`${s.url}/v4/im_open_login_svc/account_import?${q}`, { method: 'POST', headers: { 'content-type': ct }, body: '{"UserID":"carol"}' });
    expect([ct, res.status, ((await res.json()) as { ActionStatus: string }).ActionStatus]).toEqual([ct, 200, 'OK']);
  }
});
