// `serve --inspect ws://HOST:PORT` end to end: the real server process sends its machines to a relay of
// @statelyai/inspect's WebSocket protocol (what createInspectorServer does, on 127.0.0.1 port 0 and without
// its replay buffer, so that a late viewer is served by the server itself), and a real receiver of the
// library (createWebSocketReceiver) reads them. Also: the user filter, and a viewer that joins late.
import type { AddressInfo } from 'node:net';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createClient, type Client } from '../../src/index';
import { buildProgram } from '../../src/server/program';
import { sig, startServerProcess, until, type ServerProcess } from '../server/proc';

type Ev = { type: string; sessionId: string; name?: string; definition?: string; parentId?: string; sourceId?: string; event?: { type: string }; snapshot?: { value?: unknown; context?: any } };

/** createInspectorServer's relay: every message from one client goes to all the others. */
async function startRelay() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data.toString());
    });
  });
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, count: () => wss.clients.size };
}

let relay: Awaited<ReturnType<typeof startRelay>>;
let server: ServerProcess;
const clients: Client[] = [];
const early: Ev[] = [];

beforeAll(async () => {
  relay = await startRelay();
  server = await startServerProcess(['--store', 'memory', '--switch', 'userStatus=on', '--inspect', relay.url, '--inspect-users', 'alice,vip-*']);
  // The library's own receiver, connected before anything happens.
  createWebSocketReceiver({ server: relay.url }).subscribe((e) => early.push(e as Ev));
  await until(() => relay.count() === 2, 'the server and the receiver on the relay');
  await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob', 'vip-1'] });
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
  for (const c of relay?.wss.clients ?? []) c.terminate();
  await new Promise((r) => relay?.wss.close(r));
});

async function login(userID: string): Promise<Client> {
  const c = createClient({ url: server.url });
  clients.push(c);
  await c.login({ userID, userSig: sig(userID) });
  return c;
}

describe('serve --inspect', () => {
  it('sends the machines of the inspected users as @statelyai/inspect events, registered before their first step', async () => {
    const alice = await login('alice');
    await login('bob');
    await alice.setSelfStatus({ customStatus: 'inspected' });
    await until(() => early.some((e) => e.type === '@xstate.snapshot' && e.sessionId === 'userStatus:alice' && e.event?.type === 'STATUS.SET'), 'alice\'s STATUS.SET');
    const reg = early.find((e) => e.type === '@xstate.actor' && e.sessionId === 'userStatus:alice')!;
    expect(reg.name).toBe('userStatus'); // the library names an actor whose id is its session by its machine
    expect(JSON.parse(reg.definition!)).toMatchObject({ id: 'userStatus', initial: 'registered' });
    expect(reg.snapshot?.value).toBe('registered');
    const login1 = early.find((e) => e.type === '@xstate.event' && e.sessionId === 'userStatus:alice')!;
    expect(login1.event?.type).toBe('DEVICE.LOGIN');
    expect(login1.sourceId).toMatch(/^deviceLink:alice\//);
    const link = early.find((e) => e.type === '@xstate.actor' && e.sessionId === login1.sourceId)!;
    expect(link.parentId).toBe('userStatus:alice');
    const last = early.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === 'userStatus:alice').at(-1)!;
    expect([last.snapshot?.value, last.snapshot?.context.customStatus]).toEqual(['online', 'inspected']);
    // --inspect-users: bob is not inspected, not even registered.
    expect(early.some((e) => e.sessionId?.includes('bob'))).toBe(false);
  });

  it('a viewer that joins late is sent the current actors first when it says hello', async () => {
    await login('vip-1');
    const late = new WebSocket(relay.url);
    const got: Ev[] = [];
    late.on('message', (d) => got.push(JSON.parse(d.toString()) as Ev));
    await new Promise((r) => late.once('open', r));
    late.send(JSON.stringify({ type: '@statelyai.connected' }));
    // alice's machines moved before this viewer came: only an announcement can tell it of them.
    await until(() => got.some((e) => e.type === '@xstate.actor' && e.sessionId === 'userStatus:alice'), 'the current actors');
    await until(() => got.some((e) => e.type === '@xstate.actor' && e.sessionId === 'userStatus:vip-1'), 'vip-1 among them');
    const alice = got.find((e) => e.type === '@xstate.actor' && e.sessionId === 'userStatus:alice')!;
    expect([alice.snapshot?.value, alice.snapshot?.context.customStatus]).toEqual(['online', 'inspected']);
    expect(got.filter((e) => e.type === '@xstate.actor').map((e) => e.sessionId.split(/[:/]/)[0])).toEqual(expect.arrayContaining(['userStatus', 'deviceLink']));
    expect(got.some((e) => e.sessionId.includes('bob'))).toBe(false);
    late.terminate();
  });

  it('--inspect needs a ws:// URL, and --inspect-users needs --inspect', async () => {
    const run = async (args: string[]) => {
      let err = '';
      const p = buildProgram({ exitOverride: true, out: () => {}, err: (s) => (err += s) });
      await p.parseAsync(['node', 'status-engine', 'serve', ...args]).catch(() => undefined);
      return err;
    };
    expect(await run(['--inspect', 'http://x'])).toMatch(/--inspect must be ws:\/\/ or wss:\/\//);
    expect(await run(['--inspect-users', 'a'])).toMatch(/--inspect-users needs --inspect/);
    expect(await run(['--inspect', 'ws://127.0.0.1:1', '--inspect-users', '/(/'])).toMatch(/not a valid regular expression/);
  });
});
