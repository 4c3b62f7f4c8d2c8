// Red team on the relay between nodes (src/server/cluster/relay.ts, relayAuth.ts).
// - An opening that never finishes: the socket handshake had its timeout, but the owner's address lookup
//   (Redis) did not: a lookup that never answered held the client's socket (it counts as logged in) and its
//   frames until the client gave up.
// - Relay tokens were bearer tokens for 60 s: one seen on the wire could be replayed any number of times, to
//   any node (the one that made it included); and every refused token was a warning line (an unauthenticated
//   upgrade bought a log line). Now a token names its node and is good once; refusals are one line per 10 s.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Relay, type RelayContext } from '../../../src/server/cluster/relay';
import { RELAY_HEADER, RELAY_TOKEN_TTL_MS, RelayGate, relayToken } from '../../../src/server/cluster/relayAuth';
import type { SocketLink } from '../../../src/server/link/lifecycle';
import { SECRET } from '../proc';
import { startTestCluster, upgrade, type TestCluster } from '../cluster/harness';

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
let cluster: TestCluster | null = null;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
  await cluster?.close();
  cluster = null;
});

describe('relay tokens', () => {
  it('a token is for one node, good once, not from the node itself; clock skew within the TTL is fine; refusals log once per interval', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const refusedLines = (n: any) => n.lines.filter((l: any) => l.msg === 'relay refused');
    const toB = relayToken(SECRET, 'a', 'b', Date.now());
    expect(await upgrade(`${a.ws}/ws?v=1`, { [RELAY_HEADER]: toB })).toBe(401); // b's token, shown to a
    expect(refusedLines(a)[0]).toMatchObject({ reason: 'relay token for node b, not this one (a)', refused: 1 });
    expect(await upgrade(`${b.ws}/ws?v=1`, { [RELAY_HEADER]: toB })).toBe(101);
    expect(await upgrade(`${b.ws}/binfo`, { [RELAY_HEADER]: toB })).toBe(401); // the same token again
    expect(refusedLines(b)[0]).toMatchObject({ reason: 'relay token used before (a replay)', refused: 1 });
    expect(await upgrade(`${b.ws}/ws?v=1`, { [RELAY_HEADER]: relayToken(SECRET, 'b', 'b', Date.now()) })).toBe(401);
    expect(await upgrade(`${b.ws}/ws?v=1`, { [RELAY_HEADER]: relayToken(SECRET, 'a', 'b', Date.now() + RELAY_TOKEN_TTL_MS - 5000) })).toBe(101);
    for (let i = 0; i < 50; i++) expect(await upgrade(`${b.ws}/ws?v=1`, { [RELAY_HEADER]: `v2.a.b.1.${'x'.repeat(16)}.bad` })).toBe(401);
    expect(refusedLines(b)).toHaveLength(1); // 51 refusals after the first: counted, not written
  });

  it('RelayGate forgets used tokens once they would have expired anyway', () => {
    const gate = new RelayGate(SECRET, 'b');
    const t0 = 1_000_000;
    for (let i = 0; i < 100; i++) expect(gate.check(relayToken(SECRET, 'a', 'b', t0), t0)).toEqual({ ok: true, fromNode: 'a' });
    expect(gate.size).toBe(100);
    const later = t0 + RELAY_TOKEN_TTL_MS + 1;
    expect(gate.check(relayToken(SECRET, 'a', 'b', later), later)).toEqual({ ok: true, fromNode: 'a' });
    expect(gate.size).toBe(1);
    expect(new RelayGate(SECRET, null).check(relayToken(SECRET, 'a', 'b', t0), t0)).toMatchObject({ ok: false, reason: 'not a cluster node' });
  });
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
