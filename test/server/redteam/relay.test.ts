// Red team on the relay between nodes (src/server/cluster/relay.ts): an opening that never finishes. The
// socket handshake had its timeout, but the owner's address lookup (Redis) did not: a lookup that never
// answered held the client's socket (it counts as logged in) and its frames until the client gave up.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Relay, type RelayContext } from '../../../src/server/cluster/relay';
import type { SocketLink } from '../../../src/server/link/lifecycle';

const silent = { debug() {}, warn() {} };
const context = (lookup: RelayContext['lookup'], connectTimeoutMs: number): RelayContext => ({
  lookup,
  token: () => 'v1.a.0.x',
  log: silent,
  maxPayloadBytes: 1 << 20,
  maxBufferedBytes: 1 << 20,
  maxPendingFrames: 64,
  connectTimeoutMs,
});
const link = { send: () => true } as unknown as SocketLink;
const ending = (cx: RelayContext) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    new Relay(cx, { node: 'b', path: '/ws', userID: 'u', client: link, remote: '?', skipFirst: 0, onEnd: (code, reason) => resolve({ code, reason }) });
  });

let server: Server | null = null;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
});

describe('a relay whose opening never finishes', () => {
  it('a lookup of the owner\'s address that never answers ends the relay at connectTimeoutMs (1012, why)', async () => {
    const r = await ending(context(() => new Promise(() => {}), 150));
    expect(r.code).toBe(1012);
    expect(r.reason).toMatch(/the relay to node b did not open within connectTimeoutMs = 150 ms/);
  });

  it('an owner that accepts the TCP connection and never answers the upgrade: the same, once in all (lookup + handshake)', async () => {
    const mute = createServer();
    const held: Array<{ destroy(): void }> = [];
    mute.on('upgrade', (_req, socket) => void held.push(socket)); // holds the socket, says nothing
    server = mute;
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(mute.address() as AddressInfo).port}`;
    // A slow lookup (100 ms) then a handshake that never ends: one deadline covers both (the socket's own
    // handshake timeout would say "went away (1006)").
    const r = await ending(context(() => new Promise((ok) => setTimeout(() => ok(url), 100)), 150));
    expect(r.code).toBe(1012);
    expect(r.reason).toMatch(/did not open within connectTimeoutMs = 150 ms/);
    for (const socket of held) socket.destroy();
  });
});
