// Red team, WebSocket framing from an unauthenticated socket (what holds, pinned): the defences here are
// ws's (>= 8.23, package.json) and our options (perMessageDeflate off), so a downgrade or a changed option
// fails this file. A raw TCP client writes the frames by hand:
// - pings sent without ever reading the pongs: the socket is terminated (ws maxPendingAutoPongs), the
//   server's memory does not hold pong after pong;
// - a message in 20,000 one-byte fragments: closed 1008 (ws maxFragments 16,384), not 20,000 buffers;
// - permessage-deflate offered: declined (no decompression bomb to defuse); a frame with RSV1 set: closed 1002.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SDK_APP_ID } from '../proc';
import { hubClient, startInProcess, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** A raw upgraded socket: the 101's headers, and the close code the server sent (null: it cut the socket). */
async function raw(server: TestServer, path: string, extra = '') {
  const sock = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise((r) => sock.once('connect', r));
  sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
  let received = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  const ended = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => {
    const check = () => (received.includes('\r\n\r\n') ? r() : sock.once('data', check));
    check();
  });
  const head = received.subarray(0, received.indexOf('\r\n\r\n')).toString();
  /** The code of the first close frame (opcode 8) the server sent, if any. */
  const closeCode = (): number | null => {
    let i = received.indexOf('\r\n\r\n') + 4;
    while (i + 2 <= received.length) {
      const op = received[i]! & 0x0f;
      let len = received[i + 1]! & 0x7f;
      let at = i + 2;
      if (len === 126) (len = received.readUInt16BE(at)), (at += 2);
      if (op === 8) return len >= 2 ? received.readUInt16BE(at) : null;
      i = at + len;
    }
    return null;
  };
  return { sock, head, ended, closeCode };
}

/** A masked client frame (mask 0: the payload goes as it is). */
const frame = (first: number, payload: Buffer) => {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([first, 0x80 | len, 0, 0, 0, 0]) : Buffer.from([first, 0x80 | 126, len >> 8, len & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([header, payload]);
};

describe('WebSocket framing from a socket that never logged in', () => {
  it('pings whose pongs are never read: the socket is terminated; the server and a logged-in client go on', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const alice = await hubClient(s);
    expect((await alice.login('alice')).ok).toBe(true);
    const r = await raw(s, '/ws?v=1');
    r.sock.pause(); // reads nothing more: pongs pile up on the server's side unless it gives up
    const pings = Buffer.concat(Array.from({ length: 512 }, () => frame(0x89, Buffer.alloc(125, 0x61))));
    let gone = false;
    void r.ended.then(() => (gone = true));
    for (let i = 0; i < 4000 && !gone; i++) if (!r.sock.write(pings)) await Promise.race([new Promise((ok) => r.sock.once('drain', ok)), r.ended]);
    await r.ended;
    expect(gone).toBe(true);
    expect((await alice.call('ping')).ok).toBe(true);
    expect((await s.health()).status).toBe('ok');
  });

  it('a message in 20,000 one-byte fragments is refused (1008) before it is put together', async () => {
    s = await startInProcess();
    const r = await raw(s, `/binfo?sdkappid=${SDK_APP_ID}&platform=7`);
    const parts = [frame(0x02, Buffer.from('{'))];
    for (let i = 0; i < 20_000; i++) parts.push(frame(0x00, Buffer.from(' ')));
    r.sock.write(Buffer.concat(parts));
    await r.ended;
    expect(r.closeCode()).toBe(1008);
    expect((await s.health()).status).toBe('ok');
  });

  it('permessage-deflate is declined; a compressed (RSV1) frame closes the socket 1002', async () => {
    s = await startInProcess();
    for (const path of ['/ws?v=1', `/info?sdkappid=${SDK_APP_ID}&platform=7`]) {
      const r = await raw(s, path, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n');
      expect(r.head).toMatch(/^HTTP\/1\.1 101/);
      expect(r.head.toLowerCase()).not.toContain('sec-websocket-extensions');
      r.sock.write(frame(0x80 | 0x40 | 0x01, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))); // "Hello", deflated, RSV1
      await r.ended;
      expect(r.closeCode()).toBe(1002);
    }
    expect((await s.health()).status).toBe('ok');
  });
});
