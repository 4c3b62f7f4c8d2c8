// Issue 10 item 5: engines side by side, each owning part of the users. An engine refuses commands for users
// it does not own (75006); a subscriber's edge is recorded at the target's owner, so the owner's fan-out finds
// it; deliveries cross engines through the broker, each change once and in order (NTF-6); resume works from
// versions (EXT-2), with no gap and no duplicate.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { LocalClient } from '../../src/client/local';
import { coreOf } from '../../src/engine/engine';
import { createEngine, ErrorCode, EVENT, MemoryBroker, type UserStatus } from '../../src/index';
import { routerPort } from '../behaviour/sharded';
import { failure } from './harness';

/** Three engines: a owns alice and bob, b owns carol and dave, c owns erin. */
const HOME: Record<string, number> = { alice: 0, bob: 0, carol: 1, dave: 1, erin: 2 };

async function three() {
  const clock = new SimulatedClock();
  const broker = new MemoryBroker();
  const engines = [0, 1, 2].map((i) => createEngine({ clock, broker, switches: { userStatus: true, friendStatusNotify: true }, owns: (u) => HOME[u] === i }));
  for (const [i, e] of engines.entries()) await e.registerUsers(Object.keys(HOME).filter((u) => HOME[u] === i));
  const ports = engines.map((e) => coreOf(e));
  const port = routerPort(ports, (u) => ports[typeof u === 'string' ? (HOME[u] ?? 0) : 0]!);
  const device = async (userID: string) => {
    const heard: UserStatus[] = [];
    const client = new LocalClient(port, 'web');
    client.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...(e.data as UserStatus[])));
    await client.login({ userID });
    heard.length = 0;
    const about = (u: string) => heard.filter((s) => s.userID === u).map((s) => [s.version, s.customStatus]);
    return { client, heard, about };
  };
  return { clock, broker, engines, ports, device };
}

describe('engines side by side, each owning part of the users', () => {
  it('an engine refuses commands for users it does not own with 75006, naming the parameter, and changes nothing', async () => {
    const { engines, ports } = await three();
    const [a] = engines as [ReturnType<typeof createEngine>];
    const before = await a.exportState();
    expect(await failure(a.registerUsers(['carol']))).toMatchObject({ code: ErrorCode.NOT_OWNER, param: 'userIDs' });
    expect(await failure(a.addFriends('carol', ['alice']))).toMatchObject({ code: ErrorCode.NOT_OWNER, param: 'userID' });
    // Add_Type_Both changes the friends' own lists: across engines each owner is asked for its part.
    expect(await failure(Promise.resolve().then(() => ports[0]!.changeFriends('alice', ['carol'], true, true)))).toMatchObject({ code: ErrorCode.NOT_OWNER, param: 'friendIDs' });
    expect(await failure(a.explain('carol'))).toMatchObject({ code: ErrorCode.NOT_OWNER });
    expect((await a.queryStatus(['carol', 'alice']))[0]!.error?.code).toBe(ErrorCode.NOT_OWNER);
    const carolOnA = new LocalClient(ports[0]!, 'web');
    expect(await failure(carolOnA.login({ userID: 'carol' }))).toMatchObject({ code: ErrorCode.NOT_OWNER, param: 'userID' });
    expect(await a.exportState()).toEqual(before);
    expect(() => createEngine({ owns: 'alice' as never })).toThrow(/owns/);
  });

  it('NTF-2 SUB-1 a subscription is recorded at the target owner (a journaled mirror) and its fan-out reaches subscribers on every engine', async () => {
    const { ports, device } = await three();
    const carol = await device('carol');
    const alice = await device('alice');
    const dave = await device('dave');
    const erin = await device('erin');
    for (const d of [alice, dave, erin]) await d.client.subscribeUserStatus({ userIDList: ['carol'] });
    // b (carol's owner) knows all three subscribers, from its own store; the remote ones by mirror commands.
    expect([...(ports[1]!.store.subscribersOf('carol') ?? [])].sort()).toEqual(['alice', 'dave', 'erin']);
    const mirrors = ports[1]!.journal().filter((e) => e.kind === 'command' && e.command.type === 'edges.mirror');
    expect(mirrors.map((e) => e.kind === 'command' && e.command.type === 'edges.mirror' && [e.command.userID, e.command.added])).toEqual([
      ['alice', true],
      ['erin', true],
    ]);
    for (let i = 1; i <= 5; i++) await carol.client.setSelfStatus({ customStatus: `c${i}` });
    // NTF-6: each subscriber hears each change once, in order, wherever its device is held.
    const expected = [1, 2, 3, 4, 5].map((i) => `c${i}`);
    for (const d of [alice, dave, erin]) expect(d.about('carol').map(([, c]) => c)).toEqual(expected);
    for (const d of [alice, dave, erin]) expect(d.about('carol').map(([v]) => v)).toEqual([...d.about('carol').map(([v]) => v)].sort((x, y) => Number(x) - Number(y)));
    // Unsubscribing drops the mirrored edge at the owner; no more deliveries.
    await alice.client.unsubscribeUserStatus({ userIDList: ['carol'] });
    expect([...(ports[1]!.store.subscribersOf('carol') ?? [])].sort()).toEqual(['dave', 'erin']);
    await carol.client.setSelfStatus({ customStatus: 'after' });
    expect(alice.about('carol')).toHaveLength(5);
    expect(erin.about('carol')).toHaveLength(6);
  });

  it('NTF-2 (c) a friend list entry to another engine\'s user is mirrored at its owner, and the friend hears its changes', async () => {
    const { engines, ports, device } = await three();
    await engines[1]!.addFriends('dave', ['alice']); // dave (b) lists alice (a): a's fan-out needs dave as a follower
    expect([...(ports[0]!.store.followersOf('alice') ?? [])]).toEqual(['dave']);
    const dave = await device('dave');
    const alice = await device('alice');
    expect(dave.about('alice').map(([, c]) => c)).toEqual(['']); // alice's login
    await alice.client.setSelfStatus({ customStatus: 'hi' });
    expect(dave.about('alice').map(([, c]) => c)).toEqual(['', 'hi']);
    await engines[1]!.removeFriends('dave', ['alice']);
    expect(ports[0]!.store.followersOf('alice')?.size ?? 0).toBe(0);
    await alice.client.setSelfStatus({ customStatus: 'bye' });
    expect(dave.about('alice')).toHaveLength(2);
  });

  it('EXT-2 resume by versions across engines: each user that moved, current, once; nothing already held; no global seq', async () => {
    const { ports, device } = await three();
    const alice = await device('alice');
    const carol = await device('carol');
    await device('erin');
    const bob = await device('bob');
    await alice.client.subscribeUserStatus({ userIDList: ['carol', 'erin', 'bob'] });
    await carol.client.setSelfStatus({ customStatus: 'before' });
    alice.heard.length = 0;
    alice.client.disconnect('network_lost');
    for (const s of ['one', 'two', 'three']) await carol.client.setSelfStatus({ customStatus: s });
    await bob.client.setSelfStatus({ customStatus: 'b1' });
    expect(alice.heard).toEqual([]);
    await alice.client.reconnect();
    // erin did not move: not sent; carol (engine b) and bob (engine a, alice's own) once each, current.
    expect(alice.heard.map((s) => [s.userID, s.customStatus])).toEqual([
      ['carol', 'three'],
      ['bob', 'b1'],
    ]);
    await alice.client.reconnect(); // nothing missed: nothing resent
    expect(alice.heard).toHaveLength(2);
    // The engines' sequences are their own: the resume did not compare them.
    expect(new Set(ports.map((p) => p.currentSeq)).size).toBe(3);
    // A client that passes the versions it holds (a socket front-end) gets exactly what moved past them.
    const session = (alice.client as unknown as { session: Parameters<typeof ports[0]['reconnect']>[0] }).session;
    const carolNow = ports[1]!.statusOf('carol', 'alice').version;
    ports[0]!.linkEvent(session, { type: 'LINK.SILENT' });
    ports[0]!.reconnect(session, { versions: { carol: carolNow - 1, erin: 99, bob: 99, alice: 99 } });
    expect(alice.heard.slice(2).map((s) => [s.userID, s.version])).toEqual([['carol', carolNow]]);
  });

  it('EXT-2 resume by versions starts from what a device could hear when it began to listen: a friend made while it hears, unchanged since, is not resent', async () => {
    const { engines, device } = await three();
    const erin = await device('erin'); // engine c
    const dave = await device('dave'); // engine b
    await engines[1]!.addFriends('dave', ['erin']); // friendStatusNotify is on: dave now hears erin
    dave.client.disconnect('network_lost');
    await dave.client.reconnect();
    expect(dave.heard).toEqual([]); // nothing moved while it was away
    dave.client.disconnect('network_lost');
    await erin.client.setSelfStatus({ customStatus: 'moved' });
    await dave.client.reconnect();
    expect(dave.about('erin').map(([, c]) => c)).toEqual(['moved']);
  });
});
