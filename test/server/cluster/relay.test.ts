// Issue 13 item 2 at the front-ends: any node serves any client. A client on node A whose user node B owns
// is relayed to B (B runs its normal hub or gateway over the relay); it logs in, sets its status, subscribes
// to a user of node A and hears that user's changes in order. A relay without a valid token is refused.
// When the owner goes, the client's socket is closed with a reason, and the client resumes by reconnecting.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from '../../../src/client/index';
import { EVENT } from '../../../src/events';
import { RELAY_HEADER, relayToken } from '../../../src/server/cluster/relayAuth';
import { SECRET, sig, until } from '../proc';
import { hubClient, timClient } from '../wire';
import { startTestCluster, upgrade, type TestCluster } from './harness';

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

describe('relaying a client to its user\'s owner node', () => {
  it('our protocol: a client on A whose user B owns logs in, sets its status, subscribes to a user of A and hears its changes in order', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    const [alice] = cluster.usersOf(a, 1);
    expect(bob && alice).toBeTruthy();
    await a.service.admin.registerUsers([alice, bob]);

    const bobOnA = createClient({ url: a.ws });
    const heard: string[] = [];
    bobOnA.on(EVENT.USER_STATUS_UPDATED, (e: any) => {
      for (const s of e.data) if (s.userID === alice) heard.push(s.customStatus);
    });
    await bobOnA.login({ userID: bob!, userSig: sig(bob!) });
    await bobOnA.setSelfStatus({ customStatus: 'here' });
    await bobOnA.subscribeUserStatus({ userIDList: [alice!] });

    // The device lives on B (the owner), the socket on A (a relay).
    expect((await a.health()).relayed.client).toBe(1);
    expect((await b.health()).loggedIn).toBe(1);
    expect((await a.health()).loggedIn).toBe(0);

    const aliceOnA = await hubClient(a);
    expect((await aliceOnA.login(alice!)).ok).toBe(true);
    for (const s of ['one', 'two', 'three']) expect((await aliceOnA.call('setSelfStatus', { customStatus: s })).ok).toBe(true);
    await until(() => heard.includes('three'), 'the third change on the relayed client');
    expect(heard.filter((s) => ['one', 'two', 'three'].includes(s))).toEqual(['one', 'two', 'three']);

    // B sees bob's status as A does (one truth, owned by B).
    const q = await a.rest('openim/query_online_status', { To_Account: [bob], IsReturnCustomStatus: 1 });
    expect(q.QueryResult[0]).toMatchObject({ To_Account: bob, Status: 'Online', CustomStatus: 'here' });
    await bobOnA.destroy();
    aliceOnA.ws.close();
  });

  it('the Web SDK protocol: an SDK on A whose user B owns logs in and sets its status through the relay', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    await a.service.admin.registerUsers([bob]);
    const sdk = await timClient(a, '/info');
    const r = await sdk.login(bob!);
    expect(r.body.ErrorCode ?? 0).toBe(0);
    expect(r.body.A2Key).toBeTruthy();
    const set = await sdk.request('im_open_status.ws_set_custom_status', { CustomStatus: 'sdk-here' });
    expect(set.body.ErrorCode ?? 0).toBe(0);
    expect(b.server.cluster && (await b.health()).sdkConnections).toBe(1);
    expect((await a.health()).relayed.sdk).toBe(1);
    const q = await b.rest('openim/query_online_status', { To_Account: [bob], IsReturnCustomStatus: 1 });
    expect(q.QueryResult[0]).toMatchObject({ Status: 'Online', CustomStatus: 'sdk-here' });
    sdk.ws.close();
  });

  it('the Web SDK (/binfo, gzip): a relogin by session key on a new socket of A reaches the owner and resumes the same device', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    await a.service.admin.registerUsers([bob]);
    const first = await timClient(a);
    const keys = (await first.login(bob!)).body;
    expect(keys.A2Key).toBeTruthy();
    first.ws.close();
    await first.closed;
    const again = await timClient(a);
    const r = await again.request('im_open_status.wslogin', { State: 'Online', InstType: 0 }, { a2: keys.A2Key, tinyid: keys.TinyId });
    expect(r.body.ErrorCode ?? 0).toBe(0);
    expect(r.body.DeviceId).toBe(keys.DeviceId); // the same device, resumed at its owner
    expect((await again.request('im_open_status.ws_set_custom_status', { CustomStatus: 'back' }, { a2: keys.A2Key, tinyid: keys.TinyId })).body).toEqual({});
    expect((await a.health()).relayed.sdk).toBe(2);
    const q = await a.rest('openim/query_online_status', { To_Account: [bob], IsReturnCustomStatus: 1, IsNeedDetail: 1 });
    expect(q.QueryResult[0]).toMatchObject({ Status: 'Online', CustomStatus: 'back' });
    expect(q.QueryResult[0].Detail).toHaveLength(1);
    // A forged session key is refused on A itself (no relay for it).
    const forged = await timClient(a);
    expect((await forged.request('im_open_status.wslogin', { State: 'Online' }, { a2: 'made-up', tinyid: keys.TinyId })).body.ErrorCode).toBe(70001);
    expect((await a.health()).relayed.sdk).toBe(2);
    again.ws.close();
    forged.ws.close();
  });

  it('a relay must carry a token signed with the cluster\'s secret key: otherwise the upgrade is refused (401)', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const b = cluster.nodes[1]!;
    const url = `${b.ws}/ws?v=1`;
    expect(await upgrade(url, { [RELAY_HEADER]: 'nonsense' })).toBe(401);
    expect(await upgrade(url, { [RELAY_HEADER]: relayToken('another-secret-key-0123456789', 'a', 'b', Date.now()) })).toBe(401);
    expect(await upgrade(url, { [RELAY_HEADER]: relayToken(SECRET, 'a', 'b', Date.now() - 10 * 60_000) })).toBe(401);
    expect(await upgrade(`${b.ws}/binfo`, { [RELAY_HEADER]: 'v1.a.1.x' })).toBe(401);
    expect(await upgrade(url, { [RELAY_HEADER]: relayToken(SECRET, 'a', 'b', Date.now()) })).toBe(101);
    expect(b.lines.some((l) => l.msg === 'relay refused')).toBe(true);
  });

  it('a relayed login on a node that no longer owns the user is not relayed again: refused 75006 and closed to reconnect', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    await a.service.admin.registerUsers([bob]);
    const ws = new WebSocket(`${a.ws}/ws?v=1`, { headers: { [RELAY_HEADER]: relayToken(SECRET, 'b', 'a', Date.now()) } });
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 1, op: 'login', params: { userID: bob, userSig: sig(bob!) } }));
    const c = await closed;
    expect(c.code).toBe(1012);
    expect(c.reason).toMatch(/no longer owns/);
    expect(frames.find((f) => f.id === 1)).toMatchObject({ ok: false, error: { code: 75006 } });
  });

  it('when the owner hands the shard over, the relayed socket is closed with a reason and the client resumes on reconnect', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    const [alice] = cluster.usersOf(a, 1);
    await a.service.admin.registerUsers([alice, bob]);

    // A raw socket sees the close and its reason.
    const raw = await hubClient(a);
    expect((await raw.login(bob!)).ok).toBe(true);
    // Our client resumes by itself.
    const client = createClient({ url: [a.ws] });
    const heard: string[] = [];
    client.on(EVENT.USER_STATUS_UPDATED, (e: any) => {
      for (const s of e.data) if (s.userID === alice) heard.push(s.customStatus);
    });
    await client.login({ userID: bob!, userSig: sig(bob!) });
    await client.setSelfStatus({ customStatus: 'before' });
    await client.subscribeUserStatus({ userIDList: [alice!] });

    await b.close(); // SIGTERM's path: hand every shard over at once, then close
    await cluster.rounds();
    const c = await raw.closed;
    expect([1001, 1012]).toContain(c.code);
    expect(c.reason.length).toBeGreaterThan(0);
    expect(a.service.ownerOf(bob!)).toBe('a');

    // Time passes on the nodes' clock while the client comes back (a call forwarded to the stopped node times out).
    await until(async () => {
      await cluster!.advance(250);
      return (await a.health()).loggedIn >= 1 && (client as unknown as { connectionState: string }).connectionState === 'connected';
    }, 'the client resumed on A, now the owner', 10_000);
    // The state moved with the shard (its log), and the client goes on on the new owner.
    expect((await a.rest('openim/query_online_status', { To_Account: [bob], IsReturnCustomStatus: 1 })).QueryResult[0]).toMatchObject({ Status: 'Online', CustomStatus: 'before' });
    const aliceOnA = await hubClient(a);
    expect((await aliceOnA.login(alice!)).ok).toBe(true);
    expect((await aliceOnA.call('setSelfStatus', { customStatus: 'after' })).ok).toBe(true);
    await until(() => heard.includes('after'), 'a change heard after the resume (the subscription moved with the shard)');
    await client.destroy();
    aliceOnA.ws.close();
  });

  it('when another node takes the shard over while the old owner still holds the relay (it stopped answering), the relayed socket is closed to reconnect', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    await a.service.admin.registerUsers([bob]);
    const raw = await hubClient(a);
    expect((await raw.login(bob!)).ok).toBe(true);
    b.frozen = true; // b's membership and lease run out; its sockets stay open
    for (let t = 0; t < 12_000 && !raw.isClosed(); t += 500) await cluster.advance(500);
    expect(a.service.ownerOf(bob!)).toBe('a');
    expect(await raw.closed).toMatchObject({ code: 1012, reason: expect.stringMatching(/owner of user .* changed: reconnect/) });
  });

  it('the same for a relayed Web SDK: its socket is closed to reconnect once another node owns its user', async () => {
    cluster = await startTestCluster(['a', 'b']);
    const [a, b] = cluster.nodes as [any, any];
    const [bob] = cluster.usersOf(b, 1);
    await a.service.admin.registerUsers([bob]);
    const sdk = await timClient(a, '/info');
    expect((await sdk.login(bob!)).body.A2Key).toBeTruthy();
    b.frozen = true;
    for (let t = 0; t < 40_000 && !sdk.isClosed(); t += 1000) await cluster.advance(1000);
    expect(a.service.ownerOf(bob!)).toBe('a');
    expect(await sdk.closed).toMatchObject({ code: 1012, reason: expect.stringMatching(/owner of user .* changed: reconnect/) });
  });
});
