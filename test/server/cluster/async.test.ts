// The hub and the gateway on a ClusterPort (issue 13 item 3 of the server): a call is prepared, made, and
// answered only once acknowledged; one frame of a connection at a time, so replies keep the request order
// however slow a prepare or an acknowledgement is; cluster errors answer as clear errors on both protocols.
// Also /healthz in cluster mode (503 while Redis is down) and a lost shard closing its users' sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryAddressBook } from '../../../src/cluster/addresses';
import { ClusterError, ClusterErrorCode } from '../../../src/cluster/errors';
import { ErrorCode, StatusError } from '../../../src/errors';
import { adminQuery } from '../proc';
import { hubClient, timClient } from '../wire';
import { fakeCluster } from './fake';
import { serveNode } from './harness';

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function setup() {
  const fake = fakeCluster();
  const node = await serveNode(fake.service, new MemoryAddressBook());
  close = () => node.close();
  fake.engine.registerUsers(['alice', 'bob', 's1carol']);
  return { fake, node };
}

describe('the asynchronous call path', () => {
  it('hub: replies in request order, each only after its prepare and its acknowledgement', async () => {
    const { fake, node } = await setup();
    const c = await hubClient(node as never);
    fake.open(true);
    expect((await c.login('alice')).ok).toBe(true);
    fake.open(false);
    const ids: number[] = [];
    c.ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (f.t === 'res') ids.push(f.id);
    });
    c.ws.send(JSON.stringify({ id: 10, op: 'getUserStatus', params: { userIDList: ['bob'] } }));
    c.ws.send(JSON.stringify({ id: 11, op: 'setSelfStatus', params: { customStatus: 'x' } }));
    c.ws.send(JSON.stringify({ id: 12, op: 'ping' }));
    const p = await fake.next();
    expect(p.what).toBe('prepare:getUserStatus');
    await turns();
    expect(ids).toEqual([]); // nothing answered while the first call is being prepared
    expect(fake.engine.queryStatus(['alice'], {})[0]!.customStatus).toBe(''); // the second has not run
    p.release();
    const a1 = await fake.next();
    expect(a1.what).toBe('ack');
    await turns();
    expect(ids).toEqual([]); // made, not yet acknowledged
    a1.release();
    const a2 = await fake.next();
    expect(a2.what).toBe('ack'); // setSelfStatus: nothing to prepare
    await turns();
    expect(ids).toEqual([10]);
    expect(fake.engine.queryStatus(['alice'], {})[0]!.customStatus).toBe('x');
    a2.release();
    (await fake.next()).release(); // the ping
    await turns();
    expect(ids).toEqual([10, 11, 12]);
    c.ws.close();
  });

  it('hub: a prepare or an acknowledgement that fails is the call\'s answer, with its cluster code', async () => {
    const { fake, node } = await setup();
    const c = await hubClient(node as never);
    fake.open(true);
    expect((await c.login('alice')).ok).toBe(true);
    fake.open(false);
    const r1 = c.call('subscribeUserStatus', { userIDList: ['bob'] });
    (await fake.next()).fail(new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'redis is unavailable'));
    expect(await r1).toMatchObject({ ok: false, error: { code: 75001, message: 'redis is unavailable' } });
    const r2 = c.call('setSelfStatus', { customStatus: 'y' });
    (await fake.next()).fail(new ClusterError(ClusterErrorCode.NOT_OWNER, 'this node does not own the shard'));
    expect(await r2).toMatchObject({ ok: false, error: { code: 75006 } });
    fake.open(true);
    expect((await c.call('ping')).ok).toBe(true); // the connection goes on
    c.ws.close();
  });

  it('hub: a prepare or an acknowledgement that never settles answers the call past the deadline (75007 / 75002), and the connection goes on', async () => {
    const { fake, node } = await setup();
    const c = await hubClient(node as never);
    fake.open(true);
    expect((await c.login('alice')).ok).toBe(true);
    fake.open(false);
    const r1 = c.call('getUserStatus', { userIDList: ['bob'] });
    await fake.next(); // never let go
    fake.clock.increment(10_000);
    expect(await r1).toMatchObject({ ok: false, error: { code: 75007, message: expect.stringMatching(/not made: retry/) } });
    const r2 = c.call('setSelfStatus', { customStatus: 'z' });
    let g = await fake.next();
    // 10 s of quiet made the link silent: this frame brings it back, prepared first.
    if (g.what === 'prepare:reconnect') {
      g.release();
      g = await fake.next();
    }
    expect(g.what).toBe('ack'); // never let go
    fake.clock.increment(10_000);
    expect(await r2).toMatchObject({ ok: false, error: { code: 75002 } });
    fake.open(true);
    expect((await c.call('ping')).ok).toBe(true);
    c.ws.close();
  });

  it('gateway: replies in request order after prepare and acknowledgement; a cluster error is the SDK\'s error code', async () => {
    const { fake, node } = await setup();
    const sdk = await timClient(node as never, '/info');
    fake.open(true);
    expect((await sdk.login('bob')).body.A2Key).toBeTruthy();
    fake.open(false);
    const order: string[] = [];
    sdk.ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (typeof f.head?.seq === 'number' && f.head.seq >= 5000) order.push(f.head.servcmd);
    });
    const send = (servcmd: string, seq: number, body: unknown) => sdk.ws.send(JSON.stringify({ head: { ver: 'v4', platform: 7, servcmd, seq }, body }));
    send('im_open_status.ws_get_user_status', 5001, { To_Account: ['alice'] });
    send('im_open_status.ws_set_custom_status', 5002, { CustomStatus: 'sdk' });
    const p = await fake.next();
    expect(p.what).toBe('prepare:getUserStatus');
    await turns();
    expect(order).toEqual([]);
    p.release();
    (await fake.next()).release(); // ack of the read
    const a2 = await fake.next();
    await turns();
    expect(order).toEqual(['im_open_status.ws_get_user_status']);
    a2.fail(new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'redis is unavailable'));
    const r = await sdk.next((f) => f.head?.seq === 5002);
    expect(r.body).toMatchObject({ ErrorCode: 75001, ErrorInfo: 'redis is unavailable' });
    expect(order).toEqual(['im_open_status.ws_get_user_status', 'im_open_status.ws_set_custom_status']);
    sdk.ws.close();
  });
});

describe('cluster parts of the server', () => {
  it('/healthz names the node, its shards, the live nodes and Redis\' state; 503 while Redis is not ready', async () => {
    const { fake, node } = await setup();
    let res = await fetch(`${node.url}/healthz?${adminQuery()}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', mode: 'cluster', node: 'solo', shards: [0, 1], shardCount: 2, live: ['solo'], redis: 'ready', lastError: null, advertise: node.ws, relayed: { client: 0, sdk: 0 } });
    fake.setRedis('down');
    res = await fetch(`${node.url}/healthz?${adminQuery()}`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', redis: 'down', lastError: 'connect ECONNREFUSED' });
    // Without the admin proof: the same status and code, no node names or addresses.
    res = await fetch(`${node.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unhealthy', mode: 'cluster' });
    fake.setRedis('ready');
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/status_engine_cluster_shards_owned 2/);
    expect(metrics).toMatch(/status_engine_cluster_redis_ready 1/);
  });

  it('hub: a 2024 for a device that was logged in (its session lost with its shard) sends the socket to reconnect, not a 2024 to act on', async () => {
    const { fake, node } = await setup();
    const c = await hubClient(node as never);
    fake.open(true);
    expect((await c.login('alice')).ok).toBe(true);
    fake.open(false);
    const r = c.call('setSelfStatus', { customStatus: 'y' });
    (await fake.next()).fail(new StatusError(ErrorCode.NOT_LOGGED_IN, 'not logged in: call login() first'));
    expect(await c.closed).toMatchObject({ code: 1012, reason: expect.stringMatching(/session of user 'alice' was lost/) });
    await expect(Promise.race([r, turns(50).then(() => 'no answer')])).resolves.toBe('no answer');
    // A device that logged out gets its 2024 as an answer, on a socket that stays open.
    const d = await hubClient(node as never);
    fake.open(true);
    expect((await d.login('bob')).ok).toBe(true);
    expect((await d.call('logout')).ok).toBe(true);
    expect(await d.call('setSelfStatus', { customStatus: 'z' })).toMatchObject({ ok: false, error: { code: 2024 } });
    expect(d.isClosed()).toBe(false);
    d.ws.close();
  });

  it('gateway: a 2024 for an SDK that was logged in (its session lost with its shard) sends the socket to reconnect, not a 2024 to act on', async () => {
    const { fake, node } = await setup();
    const sdk = await timClient(node as never, '/info');
    fake.open(true);
    expect((await sdk.login('alice')).body.A2Key).toBeTruthy();
    fake.open(false);
    let answered = false;
    sdk.ws.on('message', (d) => {
      if (JSON.parse(String(d)).head?.servcmd === 'im_open_status.ws_set_custom_status') answered = true;
    });
    sdk.ws.send(JSON.stringify({ head: { ver: 'v4', platform: 7, servcmd: 'im_open_status.ws_set_custom_status', seq: 7001 }, body: { CustomStatus: 'y' } }));
    (await fake.next()).fail(new StatusError(ErrorCode.NOT_LOGGED_IN, 'not logged in: call login() first'));
    expect(await Promise.race([sdk.closed, turns(200).then(() => 'still open')])).toMatchObject({ code: 1012, reason: expect.stringMatching(/session of user 'alice' was lost/) });
    expect(answered).toBe(false);
    // An SDK that logged out gets its 2024 as an answer, on a socket that stays open.
    const bob = await timClient(node as never, '/info');
    fake.open(true);
    expect((await bob.login('bob')).body.A2Key).toBeTruthy();
    await bob.request('im_open_status.wslogout');
    expect((await bob.request('im_open_status.ws_set_custom_status', { CustomStatus: 'z' })).body).toMatchObject({ ErrorCode: 2024 });
    expect(bob.isClosed()).toBe(false);
    bob.ws.close();
  });

  it('a lost shard closes its users\' sockets (1012, with the reason) on both protocols; other users stay', async () => {
    const { fake, node } = await setup();
    fake.open(true);
    const carol = await hubClient(node as never);
    expect((await carol.login('s1carol')).ok).toBe(true);
    const alice = await hubClient(node as never);
    expect((await alice.login('alice')).ok).toBe(true);
    const sdkCarol = await timClient(node as never, '/info');
    expect((await sdkCarol.login('s1carol')).body.A2Key).toBeTruthy();
    const sdkBob = await timClient(node as never, '/info');
    expect((await sdkBob.login('bob')).body.A2Key).toBeTruthy();
    fake.loseShard(1);
    expect(await carol.closed).toMatchObject({ code: 1012, reason: expect.stringMatching(/moved to another node/) });
    expect(await sdkCarol.closed).toMatchObject({ code: 1012, reason: expect.stringMatching(/moved to another node/) });
    expect((await alice.call('ping')).ok).toBe(true);
    expect((await sdkBob.request('im_open_status.ws_get_user_status', { To_Account: ['alice'] })).body).toMatchObject({ UserStatusList: [{ To_Account: 'alice' }] });
    expect(alice.isClosed()).toBe(false);
    expect(sdkBob.isClosed()).toBe(false);
    alice.ws.close();
    sdkBob.ws.close();
  });
});
