// The remote client and a socket the server closes while a call is being made: between the server's close
// frame and the socket's close event the old socket is CLOSING (not open), so a call then opens a new one.
// The session must still hear the drop and resume on the new socket (EXT-2, which logs a dropped web device
// back in), not only prove its UserSig there ('auth'): that left the call answered 2024 "not logged in" (the
// chaos smoke's Redis-down case: the server had let the device go when it sent the socket away with 1012).
// A TCP proxy in front of a real in-process server holds the client's socket in that window for the test.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { createClient } from '../../src/index';
import { sig } from '../server/proc';
import { startInProcess, type TestServer } from '../server/wire';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

/** Pipes each connection to `target`; `cut(pair, code)` gives the client a close frame, drops the server's side, and holds the client's TCP open. */
async function proxy(target: number) {
  const pairs: Pair[] = [];
  // Half-open allowed: the client's end of its TCP (after its close frame) does not end ours, so its socket
  // stays CLOSING (close frame in, no close event) until the test destroys it.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    pairs.push({ client, upstream });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    pairs,
    /** Resolves once the client answered with its own close frame: its socket is CLOSING now. */
    cut(p: Pair, code: number): Promise<void> {
      p.upstream.unpipe(p.client);
      p.client.unpipe(p.upstream);
      p.upstream.destroy();
      // A server's close frame is unmasked: FIN + opcode 8, the payload length, the code, no reason.
      p.client.write(Buffer.from([0x88, 2, code >> 8, code & 0xff]));
      // The client's own close frame is read and dropped: its TCP stays open.
      const answered = new Promise<void>((r) => p.client.once('data', () => r()));
      p.client.resume(); // unpiped, it was paused
      return answered;
    },
    close: () => new Promise<void>((r) => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      server.close(() => r());
    }),
  };
}

let s: TestServer | null = null;
let px: Awaited<ReturnType<typeof proxy>> | null = null;
let c: RemoteClient | null = null;
afterEach(async () => {
  await c?.destroy();
  await px?.close();
  await s?.close();
  c = px = s = null;
});

describe('remote client: a call made while the server closes its socket', () => {
  it('resumes on the new socket (not a bare auth), so the call is served, not answered 2024', async () => {
    s = await startInProcess();
    expect((await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice'] })).ActionStatus).toBe('OK');
    px = await proxy(s.server.port);
    c = createClient({ url: `ws://127.0.0.1:${px.port}`, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }) as RemoteClient;
    await c.login({ userID: 'alice', userSig: sig('alice') });
    expect((await c.setSelfStatus({ customStatus: 'one' })).data.customStatus).toBe('one');
    const first = px.pairs[0]!;
    // The client has the close frame (its socket is CLOSING) but not yet the close event.
    await px.cut(first, 1012);
    // The server heard its socket go: the web device's link is closed (DEV-2: dropped, it logs in again on resume).
    await until(async () => (await onlineStatus(s!, 'alice')) !== 'Online');
    const call = c.setSelfStatus({ customStatus: 'two' });
    // Only now does the old socket's TCP end (its close event comes after the call began).
    setTimeout(() => first.client.destroy(), 50);
    expect((await call).data.customStatus).toBe('two');
    expect(await onlineStatus(s, 'alice')).toBe('Online');
  });

  it('a closing handshake that never finishes is ended by the client (bounded), and the call is still served', async () => {
    s = await startInProcess();
    expect((await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice'] })).ActionStatus).toBe('OK');
    px = await proxy(s.server.port);
    c = createClient({ url: `ws://127.0.0.1:${px.port}`, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }) as RemoteClient;
    await c.login({ userID: 'alice', userSig: sig('alice') });
    await px.cut(px.pairs[0]!, 1012); // and its TCP is never ended from this side
    await until(async () => (await onlineStatus(s!, 'alice')) !== 'Online');
    expect((await c.setSelfStatus({ customStatus: 'two' })).data.customStatus).toBe('two');
    expect(await onlineStatus(s, 'alice')).toBe('Online');
  });
});

async function onlineStatus(server: TestServer, userID: string): Promise<string> {
  const r = await server.rest('openim/query_online_status', { To_Account: [userID] });
  return String(r.QueryResult?.[0]?.Status);
}

async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
