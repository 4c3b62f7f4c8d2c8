// Bad input on the client protocol, on the real server process: malformed JSON, frames that are not
// requests, unknown ops, wrong types, calls before login, oversize frames, a wrong protocol version. Each
// gets an error reply (with the request id when there is one), nothing changes, and the connection and
// the server stay healthy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sig, startServerProcess, until, type ServerProcess } from './proc';

let server: ServerProcess;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startServerProcess(['--store', 'memory', '--switch', 'userStatus=on']);
  await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  expect(await server.stop()).toBe(0);
});

interface Raw {
  ws: WebSocket;
  hello: any;
  /** The next reply the server sends (pushes skipped). */
  next(): Promise<any>;
  send(data: string | Buffer, binary?: boolean): void;
  call(frame: object): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(query = 'v=1'): Promise<Raw> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?${query}`);
  sockets.push(ws);
  const queue: any[] = [];
  const waiters: Array<(f: any) => void> = [];
  ws.on('message', (d) => {
    const f = JSON.parse(String(d));
    const w = waiters.shift();
    if (w) w(f);
    else queue.push(f);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const frame = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise<any>((r) => waiters.push(r)));
  const hello = await frame();
  // Pushes (the device's own changes) are not what these tests look at: the next reply is.
  const next = async () => {
    for (;;) {
      const f = await frame();
      if (f.t !== 'push') return f;
    }
  };
  return {
    ws,
    hello,
    next,
    send: (data, binary = false) => ws.send(data, { binary }),
    call: (frame) => {
      ws.send(JSON.stringify(frame));
      return next();
    },
    closed,
  };
}

describe('bad frames on /ws', () => {
  it('malformed JSON, a frame that is not an object, a frame without an id: an error reply without an id', async () => {
    const c = await connect();
    expect(c.hello).toMatchObject({ t: 'hello', v: 1, heartbeatMs: 10000 });
    c.send('{"id": 1, "op": ');
    expect(await c.next()).toMatchObject({ t: 'res', id: null, ok: false, error: { code: 90001 } });
    c.send('[1, 2, 3]');
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 90001 } });
    c.send('"just a string"');
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 90001 } });
    c.send(JSON.stringify({ op: 'ping' }));
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 6017, param: 'id' } });
    // The connection is still good.
    expect(await c.call({ id: 9, op: 'ping' })).toMatchObject({ t: 'res', id: 9, ok: true });
  });

  it('unknown ops, unknown keys and wrong types: an error reply with the request id and the parameter', async () => {
    const c = await connect();
    expect(await c.call({ id: 1, op: 'dropTables' })).toMatchObject({ id: 1, ok: false, error: { code: 90002, param: 'op' } });
    expect(await c.call({ id: 2, op: 'ping', extra: true })).toMatchObject({ id: 2, ok: false, error: { code: 6017 } });
    expect(await c.call({ id: 3, op: 42 })).toMatchObject({ id: 3, ok: false, error: { code: 6017, param: 'op' } });
    expect(await c.call({ id: 4, op: 'login', params: 'alice' })).toMatchObject({ id: 4, ok: false, error: { code: 6017, param: 'options' } });
    expect(await c.call({ id: 5, op: 'login', params: { userID: 7, userSig: sig('alice') } })).toMatchObject({ id: 5, ok: false, error: { code: 6017, param: 'userID' } });
    const login = await c.call({ id: 6, op: 'login', params: { userID: 'alice', userSig: sig('alice') } });
    expect(login).toMatchObject({ ok: true, data: { userID: 'alice', repeatLogin: false } });
    // The login's own ONLINE push came first; now calls with wrong types.
    const seq = (await server.health()).seq;
    expect(await c.call({ id: 7, op: 'setSelfStatus', params: { customStatus: 5 } })).toMatchObject({ id: 7, ok: false, error: { code: 6017, param: 'customStatus' } });
    expect(await c.call({ id: 8, op: 'getUserStatus', params: { userIDList: 'bob' } })).toMatchObject({ id: 8, ok: false, error: { code: 6017, param: 'userIDList' } });
    expect(await c.call({ id: 9, op: 'subscribeUserStatus', params: { userIDList: ['bob'], pushCurrent: 'yes' } })).toMatchObject({ id: 9, ok: false, error: { code: 6017, param: 'pushCurrent' } });
    expect(await c.call({ id: 10, op: 'resume', params: { userID: 'alice', userSig: sig('alice'), lastSeq: -1 } })).toMatchObject({ id: 10, ok: false, error: { code: 6017, param: 'lastSeq' } });
    expect((await server.health()).seq).toBe(seq);
    expect(await c.call({ id: 11, op: 'setSelfStatus', params: { customStatus: 'fine' } })).toMatchObject({ id: 11, ok: true, data: { customStatus: 'fine' } });
  });

  it('calls before login get 2024 and change nothing', async () => {
    const c = await connect();
    const seq = (await server.health()).seq;
    for (const [i, op] of ['setSelfStatus', 'getUserStatus', 'subscribeUserStatus', 'unsubscribeUserStatus', 'logout', 'setVisibility', 'background'].entries()) {
      expect(await c.call({ id: i, op, params: {} })).toMatchObject({ id: i, ok: false, error: { code: 2024 } });
    }
    expect((await server.health()).seq).toBe(seq);
  });

  it('a frame over maxFrameBytes is answered (90003) and not read; the connection stays', async () => {
    const c = await connect();
    await c.call({ id: 1, op: 'login', params: { userID: 'bob', userSig: sig('bob') } });
    const seq = (await server.health()).seq;
    c.send(JSON.stringify({ id: 2, op: 'setSelfStatus', params: { customStatus: 'x'.repeat(100 * 1024) } }));
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 90003, limitName: 'maxFrameBytes', limit: 65536 } });
    expect((await server.health()).seq).toBe(seq);
    expect(await c.call({ id: 3, op: 'ping' })).toMatchObject({ id: 3, ok: true });
  });

  it('a frame over the transport limit closes that socket (1009); the server and the other sockets go on', async () => {
    const other = await connect();
    const c = await connect();
    c.send(Buffer.alloc(2 * 1024 * 1024, 0x20), true);
    expect((await c.closed).code).toBe(1009);
    expect(await other.call({ id: 1, op: 'ping' })).toMatchObject({ id: 1, ok: true });
    expect((await server.health()).status).toBe('ok');
  });

  it('binary frames carry the same JSON; a wrong protocol version or device id is refused with 4400', async () => {
    const c = await connect();
    c.send(Buffer.from(JSON.stringify({ id: 1, op: 'ping' })), true);
    expect(await c.next()).toMatchObject({ id: 1, ok: true });
    const old = new WebSocket(`${server.url.replace('http', 'ws')}/ws?v=0`);
    sockets.push(old);
    const frames: any[] = [];
    old.on('message', (d) => frames.push(JSON.parse(String(d))));
    const closed = await new Promise<number>((r) => old.on('close', (code) => r(code)));
    expect(closed).toBe(4400);
    expect(frames[0]).toMatchObject({ ok: false, error: { code: 90004 } });
    const bad = new WebSocket(`${server.url.replace('http', 'ws')}/ws?v=1&deviceId=${encodeURIComponent('../../etc')}`);
    sockets.push(bad);
    expect(await new Promise<number>((r) => bad.on('close', (code) => r(code)))).toBe(4400);
  });

  it('a WebSocket upgrade on an unknown path is refused; plain HTTP elsewhere is a 404 in the REST shape', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/nowhere`);
    sockets.push(ws);
    const err = await new Promise<Error>((r) => ws.on('error', r));
    expect(err.message).toContain('404');
    const res = await fetch(`${server.url}/nowhere`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60009 });
    await until(async () => (await server.health()).status === 'ok', 'a healthy server');
  });
});
