// Hostile input on every door (issue 9, findings 1 and 6): the 51 pinned crash frames against the real
// server process, then a seeded, bounded fast-check fuzz over /ws, /binfo, /info and REST (deep nesting,
// compressed frames, huge values, wrong types). The server stays up, each socket that survives still
// answers, and nothing changes: no command lands (seq), and a logged-in user's status is as it was.
import net from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { OPS } from '../../src/protocol/messages';
import { CMD } from '../../src/protocol/tim/wire';
import { MAX_NESTING_DEPTH } from '../../src/server/link/bounds';
import { deepArray, deepObject, pinnedFrames } from './frames-regression';
import { SDK_APP_ID, sig, startServerProcess } from './proc';
import { hubClient, rawSocket, startInProcess, timClient, type RawSocket, type TestServer } from './wire';

const socketUrl = (base: string, path: string) =>
  path === '/ws' ? `${base}/ws?v=1` : path === '/binfo' ? `${base}/binfo?sdkappid=${SDK_APP_ID}&compress=gzip` : `${base}/info?sdkappid=${SDK_APP_ID}`;

/** A request that every surviving socket answers: proves the frames before it were handled, and it lives. */
async function stillAnswers(raw: RawSocket, path: string): Promise<void> {
  if (path === '/ws') {
    raw.ws.send(JSON.stringify({ id: 999_999, op: 'ping' }));
    expect((await raw.next((f) => f.t === 'res' && f.id === 999_999)).ok).toBe(true);
  } else {
    const frame = JSON.stringify({ head: { servcmd: CMD.ALIVE, seq: 999_999 }, body: {} });
    raw.ws.send(path === '/binfo' ? Buffer.from(frame) : frame, { binary: path === '/binfo' });
    expect((await raw.next((f) => f.head?.seq === 999_999)).body).toEqual({});
  }
}

describe('issue 9 #1: the 51 pinned crash frames, on the real server process', () => {
  it('none stops the process or changes anything; each socket still answers; /ws says which limit', async () => {
    const server = await startServerProcess(['--store', 'memory', '--switch', 'userStatus=on']);
    try {
      await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice'] });
      const before = await server.health();
      const frames = pinnedFrames();
      expect(frames).toHaveLength(51);
      const base = server.url.replace('http', 'ws');
      const sockets = new Map<string, RawSocket>();
      for (const path of ['/ws', '/info', '/binfo']) sockets.set(path, await rawSocket(socketUrl(base, path)));
      // The /binfo frames are deep nesting gzipped: they inflate past 32 times their size (session 17's
      // maxInflateRatio), so each closes its socket (1009) naming the ratio before anything parses it.
      const comp = frames.filter((f) => f.path === '/binfo');
      expect(comp.length).toBeGreaterThan(0);
      for (const f of comp) {
        const one = await rawSocket(socketUrl(base, '/binfo'));
        one.ws.send(f.data, { binary: true });
        const closed = await one.closed;
        expect(closed.code).toBe(1009);
        expect(closed.reason).toContain('maxInflateRatio');
      }
      for (const f of frames) if (f.path !== '/binfo') sockets.get(f.path)!.ws.send(f.data, { binary: f.binary });
      for (const [path, raw] of sockets) await stillAnswers(raw, path);
      const wsReplies = sockets.get('/ws')!.frames.filter((f) => f.t === 'res' && f.ok === false);
      expect(wsReplies).toHaveLength(3);
      for (const r of wsReplies) expect(r.error).toMatchObject({ code: 6017, limitName: 'maxNestingDepth', limit: MAX_NESTING_DEPTH, param: 'frame' });
      expect(server.proc.exitCode).toBeNull();
      const after = await server.health();
      expect(after.status).toBe('ok');
      expect(after.seq).toBe(before.seq);
      for (const raw of sockets.values()) raw.ws.terminate();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// The fuzz: in process (an exception escaping a socket callback fails this file as an unhandled error).

/** Values the wire should never trust: deep nesting, huge strings, odd numbers, prototype keys. */
const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: MAX_NESTING_DEPTH + 1, max: 20_000 }).map(deepArray),
  fc.integer({ min: MAX_NESTING_DEPTH + 1, max: 20_000 }).map(deepObject),
  fc.integer({ min: 1, max: 300_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.constantFrom('null', 'true', '-0', '1e308', '-1e308', '123456789012345678901234567890', '""', '[]', '{}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{}}}', '"\\u0000\\ud800"'),
  fc.json({ depthSize: 'small' }),
);

const timCommands = [...Object.values(CMD), 'no.such', ''];
const rawBytes = fc.uint8Array({ minLength: 0, maxLength: 2000 }).map((a) => Buffer.from(a));

/** One hostile uplink frame, as the bytes and framing a socket would send. */
const timFrame = fc
  .record({
    servcmd: fc.oneof(fc.constantFrom(...timCommands).map((c) => JSON.stringify(c)), hostile),
    seq: fc.oneof(fc.integer().map(String), hostile),
    extra: fc.constantFrom('identifier', 'usersig', 'a2', 'tinyid', 'sdkappid', 'platform'),
    extraValue: hostile,
    bodyKey: fc.constantFrom('To_Account', 'CustomStatus', 'SessionData', 'Cookie', 'UnsubscribeAll', 'InstType'),
    bodyValue: hostile,
    wrap: fc.constantFrom('plain', 'gzip', 'deflate', 'garbage-comp', 'raw-bytes'),
  })
  .chain((r) => rawBytes.map((bytes) => ({ ...r, bytes })))
  .map((r) => {
    const text = `{"head":{"servcmd":${r.servcmd},"seq":${r.seq},"${r.extra}":${r.extraValue}},"body":{"${r.bodyKey}":${r.bodyValue}}}`;
    const data =
      r.wrap === 'gzip'
        ? Buffer.concat([Buffer.from('COMP'), gzipSync(text)])
        : r.wrap === 'deflate'
          ? Buffer.concat([Buffer.from('COMP'), deflateSync(text)])
          : r.wrap === 'garbage-comp'
            ? Buffer.concat([Buffer.from('COMP'), r.bytes])
            : r.wrap === 'raw-bytes'
              ? r.bytes
              : Buffer.from(text);
    return { text, data };
  });

const wsFrame = fc
  .record({
    id: fc.oneof(fc.nat().map(String), hostile),
    op: fc.oneof(fc.constantFrom(...OPS).map((o) => JSON.stringify(o)), hostile),
    params: hostile,
    binary: fc.boolean(),
    raw: fc.option(rawBytes, { freq: 5 }),
  })
  .map((r) => ({ data: r.raw ?? Buffer.from(`{"id":${r.id},"op":${r.op},"params":${r.params}}`), binary: r.binary }));

const restCall = fc.record({
  command: fc.constantFrom('im_open_login_svc/account_import', 'im_open_login_svc/multiaccount_import', 'sns/friend_add', 'sns/friend_delete', 'openim/query_online_status', 'im_open_status/config', 'no/such'),
  // Each body holds at least one value out of bounds (or is not JSON): none may be applied.
  body: fc.oneof(
    fc.tuple(fc.constantFrom('Accounts', 'From_Account', 'To_Account', 'AddFriendItem', 'UserID', 'Switches', 'Limits'), fc.integer({ min: MAX_NESTING_DEPTH + 1, max: 5000 })).map(([k, d]) => `{"${k}":${deepArray(d)},"UserID":"mallory","Accounts":["mallory"]}`),
    rawBytes.map((b) => b.toString('latin1')),
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'),
  authenticated: fc.boolean(),
});

describe('issue 9 #6: a seeded fuzz over /ws, /binfo, /info and REST', () => {
  let s: TestServer;
  let watcher: Awaited<ReturnType<typeof hubClient>>;
  let bob: Awaited<ReturnType<typeof timClient>>;
  beforeAll(async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
    watcher = await hubClient(s);
    expect((await watcher.login('alice')).ok).toBe(true);
    await watcher.call('setSelfStatus', { customStatus: 'steady' });
    bob = await timClient(s, '/binfo');
    expect((await bob.login('bob')).body.ErrorCode).toBeUndefined();
  });
  afterAll(async () => {
    watcher.ws.terminate();
    bob.ws.terminate();
    await s.close();
  });

  const unchanged = async (seq: number) => {
    const h = await s.health();
    expect(h.status).toBe('ok');
    expect(h.seq).toBe(seq); // no command landed
    const r = await s.rest('openim/query_online_status', { To_Account: ['alice', 'bob', 'mallory'], IsReturnCustomStatus: 1 });
    expect(r.QueryResult.map((u: any) => [u.To_Account, u.Status, u.CustomStatus])).toEqual([
      ['alice', 'Online', 'steady'],
      ['bob', 'Online', ''],
    ]);
    // No REST body got through: 'mallory' (named in every fuzzed body) was never registered.
    expect(r.ErrorList).toMatchObject([{ To_Account: 'mallory', ErrorCode: 70107 }]);
  };

  it('the server stays up and answers; no state changes (seed 9, 40 runs)', async () => {
    const seq0 = (await s.health()).seq;
    const sockets = new Map<string, RawSocket>();
    const socket = async (path: string) => {
      let raw = sockets.get(path);
      if (!raw || raw.isClosed() || raw.ws.readyState !== WebSocket.OPEN) {
        raw = await rawSocket(socketUrl(s.ws, path));
        if (path === '/ws') await raw.next((f) => f.t === 'hello');
        sockets.set(path, raw);
      }
      return raw;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(timFrame, { minLength: 1, maxLength: 4 }),
        fc.array(wsFrame, { minLength: 1, maxLength: 4 }),
        restCall,
        async (tims, wss, rest) => {
          // Time moves as it would between bursts (a per-connection request budget refills, deadlines run);
          // the logged-in sockets keep speaking so that only the anonymous ones meet their login deadline.
          s.clock.advance(5_000);
          expect((await watcher.call('ping')).ok).toBe(true);
          for (const f of tims) (await socket('/binfo')).ws.send(f.data, { binary: true });
          for (const f of tims) (await socket('/info')).ws.send(f.text);
          for (const f of wss) (await socket('/ws')).ws.send(f.data, { binary: f.binary });
          // The logged-in SDK socket too: out-of-bounds frames from an authenticated client change nothing either.
          const poison = `{"head":{"x":${deepArray(MAX_NESTING_DEPTH + 1)},`;
          for (const f of tims.filter((t) => t.text.length < 200_000)) bob.ws.send(Buffer.from(f.text.replace('{"head":{', poison)), { binary: true });
          const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: rest.authenticated ? sig('administrator') : 'forged', random: '1' });
          const res = await fetch(`${s.url}/v4/${rest.command}?${q}`, { method: 'POST', headers: { 'content-type': rest.contentType }, body: rest.body });
          expect(res.status).toBeLessThan(500);
          for (const path of ['/binfo', '/info', '/ws']) {
            const raw = sockets.get(path);
            if (!raw || raw.isClosed()) continue;
            // A socket the server closed (a frame over maxPayload: 1009) is fine; an open one must answer.
            const answered = stillAnswers(raw, path);
            answered.catch(() => undefined);
            await Promise.race([answered, raw.closed]);
          }
          await stillAnswers(bob, '/binfo');
          await unchanged(seq0);
        },
      ),
      { seed: 9, numRuns: 40, endOnFailure: true },
    );
    for (const raw of sockets.values()) raw.ws.terminate();
  }, 60_000);
});

describe('issue 9 #1: hostile socket URLs (the upgrade is as unauthenticated as a frame)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startInProcess();
  });
  afterAll(() => s.close());

  /** Opens a socket at `url` and waits until it is open or closed; the server must still answer afterwards. */
  const knock = async (url: string) => {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    const r = await new Promise<number | 'open'>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('close', (code) => resolve(code));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    ws.terminate();
    return r;
  };
  /** The code the server closes a socket at `url` with (it refuses it after the upgrade). */
  const refusedWith = (url: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('error', () => undefined);
      ws.once('close', (code) => resolve(code));
    });

  it('pinned: a platform, deviceId or version that quotes 100 CJK characters (a close reason over 123 bytes used to throw)', async () => {
    const long = encodeURIComponent('平'.repeat(100));
    expect(await refusedWith(`${s.ws}/ws?v=1&platform=${long}`)).toBe(4400);
    expect(await refusedWith(`${s.ws}/ws?v=${long}`)).toBe(4400);
    expect(await refusedWith(`${s.ws}/ws?v=1&deviceId=${long}`)).toBe(4400);
    expect(await knock(`${s.ws}/binfo?sdkappid=${long}&platform=${long}&compress=${long}`)).toBe('open');
    expect((await s.health()).status).toBe('ok');
  });

  it('pinned: request targets that are not URLs, on every socket path', async () => {
    const port = Number(new URL(s.url).port);
    for (const target of ['http://[', '//', '/ws?%zz', '/binfo?%', '/info#\u00ff', '/ws?v=1&v=1&v=1']) {
      await new Promise<void>((resolve) => {
        const sock = net.connect(port, '127.0.0.1', () =>
          sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
        );
        sock.on('data', () => sock.destroy());
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
      });
    }
    expect((await s.health()).status).toBe('ok');
  });

  it('pinned: an invalid frame right after a refused upgrade (a socket with no error listener used to throw)', async () => {
    const port = Number(new URL(s.url).port);
    for (const target of ['/ws?v=2', '/ws?v=1&platform=nope', '/ws?v=1', '/binfo', '/info']) {
      await new Promise<void>((resolve) => {
        const sock = net.connect(port, '127.0.0.1', () =>
          sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
        );
        let sent = false;
        sock.on('data', () => {
          if (sent) return;
          sent = true;
          sock.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4])); // opcode 3 is reserved
        });
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
      });
    }
    expect((await s.health()).status).toBe('ok');
  });

  it('fuzz: any query string on /ws, /binfo and /info (seed 9, 30 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/ws', '/binfo', '/info'), fc.string({ unit: 'binary', maxLength: 300 }), async (path, q) => {
        await knock(`${s.ws}${path}?${encodeURIComponent(q).replace(/%3D/g, '=').replace(/%26/g, '&')}`);
        expect((await s.health()).status).toBe('ok');
      }),
      { seed: 9, numRuns: 30 },
    );
  });
});
