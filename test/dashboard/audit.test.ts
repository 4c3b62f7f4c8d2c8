// EXT-3 over the server: the admin REST routes of src/server/restAudit.ts answer why a user shows what it
// shows (explain) and page the journal, in the Tencent REST style, for the administrator only.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index';
import { startServer, type RunningServer } from '../../src/server/server';
import { SDK_APP_ID, SECRET, sig } from '../server/proc';

let server: RunningServer;
const clients: Client[] = [];
const rest = async (command: string, body: unknown, who = 'administrator') => {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: who, usersig: sig(who), random: '1', contenttype: 'json' });
  return (await (await fetch(`${server.url}/v4/${command}?${q}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, any>;
};

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, sdkAppId: SDK_APP_ID, secretKey: SECRET, logger: pino({ level: 'silent' }), settings: { switches: { userStatus: true } } });
  server.core.registerUsers(['alice']);
  const c = createClient({ url: server.url });
  clients.push(c);
  await c.login({ userID: 'alice', userSig: sig('alice') });
  await c.setSelfStatus({ customStatus: 'why?' });
  await c.logout();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.close();
});

describe('admin REST audit routes', () => {
  it('EXT-3 im_open_status/explain: the status machine steps of a user, oldest first, with reasons', async () => {
    const r = await rest('im_open_status/explain', { UserID: 'alice' });
    expect(r.ActionStatus).toBe('OK');
    expect(r.Transitions.map((t: any) => [t.Event, t.From, t.To, t.Reason, t.After.CustomStatus])).toEqual([
      ['DEVICE.LOGIN', 'registered', 'online', 'login', ''],
      ['STATUS.SET', 'online', 'online', 'custom_status_set', 'why?'],
      ['DEVICE.LOGOUT', 'online', 'unlogined.clearPending', 'logout', 'why?'],
    ]);
    const last = await rest('im_open_status/explain', { UserID: 'alice', Limit: 1 });
    expect([last.Total, last.Transitions.length, last.Transitions[0].Event]).toEqual([3, 1, 'DEVICE.LOGOUT']);
  });

  it('EXT-3 im_open_status/journal pages the journal with NextSeq', async () => {
    const first = await rest('im_open_status/journal', { Limit: 2 });
    expect(first.Entries.map((e: any) => e.seq)).toEqual([1, 2]);
    const next = await rest('im_open_status/journal', { FromSeq: first.NextSeq, Limit: 1000 });
    expect(next.Entries[0].seq).toBe(3);
    expect(next.Entries.some((e: any) => e.kind === 'command' && e.command.type === 'status.set')).toBe(true);
  });

  it('bad bodies and callers get a clear error and change nothing', async () => {
    expect(await rest('im_open_status/explain', { UserID: 'nobody' })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70107 });
    expect((await rest('im_open_status/explain', {})).ErrorInfo).toMatch(/UserID/);
    expect((await rest('im_open_status/journal', { Limit: 5000 })).ErrorInfo).toMatch(/Limit.*1000/);
    expect((await rest('im_open_status/journal', { Nope: 1 })).ErrorInfo).toMatch(/unknown key/);
    expect(await rest('im_open_status/explain', { UserID: 'alice' }, 'alice')).toMatchObject({ ActionStatus: 'FAIL' });
  });
});
