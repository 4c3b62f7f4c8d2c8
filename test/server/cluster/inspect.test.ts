// `serve --redis ... --inspect ws://HOST:PORT` (issue 14 in cluster mode): two real `serve --redis` processes
// on a real redis-server, each sending to its own relay of @statelyai/inspect's protocol, read by the
// library's own receiver. Each node sends the machines of the shards it owns only (and of the users
// --inspect-users names); when a node hands its shards over (SIGTERM) its actors are reported stopped, and
// the new owner's actors appear as the users' clients come back to it.
import type { AddressInfo } from 'node:net';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createClient, type Client } from '../../../src/index';
import { shardOf } from '../../../src/cluster/shardMap';
import { RedisServer } from '../../cluster/redis';
import { sig, startServerProcess, until, type ServerProcess } from '../proc';

type Ev = { type: string; sessionId: string; event?: { type: string }; snapshot?: { value?: unknown; status?: string; context?: any } };

/** createInspectorServer's relay: every message from one client goes to all the others. */
async function startRelay() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data.toString());
    });
  });
  const events: Ev[] = [];
  createWebSocketReceiver({ server: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` }).subscribe((e) => events.push(e as Ev));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, count: () => wss.clients.size, events };
}
type Relay = Awaited<ReturnType<typeof startRelay>>;

const SHARDS = 8;
const procs: ServerProcess[] = [];
const relays: Relay[] = [];
const clients: Client[] = [];
let redis: RedisServer | null = null;
afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const p of procs) await p.kill9().catch(() => undefined);
  await redis?.stop();
  for (const r of relays) {
    for (const c of r.wss.clients) c.terminate();
    await new Promise((done) => r.wss.close(done));
  }
});

const users = (r: Relay) => new Set(r.events.filter((e) => e.type === '@xstate.actor' && e.sessionId.startsWith('userStatus:')).map((e) => e.sessionId.slice('userStatus:'.length)));
/** Any actor of this user (its status, subscriptions, rate windows, links: `kind:user`, `kind:api:user`, `deviceLink:user/dev`). */
const mentions = (r: Relay, userID: string) => r.events.some((e) => e.sessionId.split(/[:/]/).includes(userID));
const stopped = (r: Relay, userID: string) => r.events.some((e) => e.type === '@xstate.snapshot' && e.sessionId === `userStatus:${userID}` && e.snapshot?.status === 'stopped');

describe('serve --redis --inspect', () => {
  it("sends the machines of this node's shards only; a handoff stops them here and they appear at the new owner", async () => {
    redis = await RedisServer.start();
    const [ra, rb] = [await startRelay(), await startRelay()];
    relays.push(ra, rb);
    const common = ['--redis', redis.url, '--shards', String(SHARDS), '--lease-ms', '1500', '--switch', 'userStatus=on', '--inspect-users', 'u*'];
    const a = await startServerProcess([...common, '--node-id', 'a', '--inspect', ra.url]);
    procs.push(a);
    const b = await startServerProcess([...common, '--node-id', 'b', '--inspect', rb.url]);
    procs.push(b);
    const [ha, hb] = await until(async () => {
      const [x, y] = [await a.health(), await b.health()];
      return x.live?.length === 2 && x.shards.length > 0 && y.shards.length > 0 && x.shards.length + y.shards.length === SHARDS ? [x, y] : null;
    }, 'the shards split between the nodes', 15_000);
    await until(() => ra.count() === 2 && rb.count() === 2, 'each node and its receiver on their relay');
    const owner = (u: string) => (ha.shards.includes(shardOf(u, SHARDS)) ? 'a' : hb.shards.includes(shardOf(u, SHARDS)) ? 'b' : null);
    const pick = (node: string, prefix: string, n: number) => Array.from({ length: 200 }, (_, i) => `${prefix}${i}`).filter((u) => owner(u) === node).slice(0, n);
    const onA = pick('a', 'u', 2);
    const onB = pick('b', 'u', 2);
    const quiet = [...pick('a', 'x', 1), ...pick('b', 'x', 1)]; // not matched by --inspect-users
    expect(await a.rest('im_open_login_svc/multiaccount_import', { Accounts: [...onA, ...onB, ...quiet] })).toMatchObject({ ActionStatus: 'OK' });
    // Every client on node a's socket: b's users are relayed to b, and run there.
    for (const u of [...onA, ...onB, ...quiet]) {
      const c = createClient({ url: a.url.replace('http', 'ws') });
      clients.push(c);
      await c.login({ userID: u, userSig: sig(u) });
      await c.setSelfStatus({ customStatus: `at-${u}` });
    }
    await until(() => onA.every((u) => users(ra).has(u)) && onB.every((u) => users(rb).has(u)), 'each node registers its own users');
    expect([...users(ra)].sort()).toEqual([...onA].sort());
    expect([...users(rb)].sort()).toEqual([...onB].sort());
    for (const r of [ra, rb]) for (const q of quiet) expect(mentions(r, q), q).toBe(false);
    /** What the inspector shows of the user's status machine now: its last registration or snapshot. */
    const last = (r: Relay, u: string) => r.events.filter((e) => (e.type === '@xstate.snapshot' || e.type === '@xstate.actor') && e.sessionId === `userStatus:${u}`).at(-1);
    for (const u of onB) expect(last(rb, u)?.snapshot).toMatchObject({ value: 'online', context: { customStatus: `at-${u}` } });

    // b hands its shards to a: b's actors are stopped on b's inspector; a now runs those users' machines.
    expect(await b.stop('SIGTERM')).toBe(0);
    for (const u of onB) expect(stopped(rb, u), `${u} stopped on b`).toBe(true);
    for (const u of onA) expect(stopped(rb, u)).toBe(false);
    // Registered by a as it takes the shards (the users have devices), before any step of theirs there.
    await until(() => onB.every((u) => users(ra).has(u)), "b's users' machines appear on a", 20_000);
    for (const u of onB) {
      await until(() => last(ra, u)?.snapshot?.value === 'online', `${u} online on a`, 10_000);
      expect(last(ra, u)?.snapshot?.context.customStatus).toBe(`at-${u}`);
    }
    for (const u of onA) expect(stopped(ra, u)).toBe(false);
    for (const q of quiet) expect(mentions(ra, q), q).toBe(false);
  }, 90_000);
});
