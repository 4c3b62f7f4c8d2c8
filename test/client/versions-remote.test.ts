// Issue 17 through the server: the three cases of test/engine/versions.test.ts, with remote clients over
// WebSocket against a server started in this process (127.0.0.1, port 0).
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { EVENT, TYPES, type UserStatus } from '../../src/index';
import { startServer, type RunningServer } from '../../src/server/server';
import { SDK_APP_ID, SECRET, sig, until } from '../server/proc';

const logger = pino({ level: 'silent' });
const toClose: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of toClose.reverse()) await c();
});

async function serve(limits: Record<string, number> = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, clock: 'system', sdkAppId: SDK_APP_ID, secretKey: SECRET, logger, settings: { switches: { userStatus: true }, limits } });
  toClose.push(() => server.close());
  server.core.registerUsers(['alice', 'bob', 'carol']);
  return server;
}

async function client(server: RunningServer, userID: string, platform: 'web' | 'ios' = 'web') {
  const c = new RemoteClient({ url: server.url, platform });
  toClose.push(() => c.destroy());
  const heard: UserStatus[] = [];
  c.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...(e.data as UserStatus[])));
  await c.login({ userID, userSig: sig(userID) });
  heard.length = 0;
  const version = async (id: string) => (await c.getUserStatus({ userIDList: [id] })).data.successUserList[0]!;
  return { c, heard, version };
}

describe('EXT-2 versions as a viewer sees them, through the server (issue 17)', () => {
  it('EXT-2 EXT-7 a drop and return within flapGraceMs: the viewer is told nothing and its query shows the version it was told', async () => {
    const server = await serve({ flapGraceMs: 60_000 });
    const alice = await client(server, 'alice', 'ios');
    const bob = await client(server, 'bob');
    await bob.c.subscribeUserStatus({ userIDList: ['alice'] });
    const told = await bob.version('alice');
    alice.c.disconnect('link_closed');
    await until(() => server.core.queryStatus(['alice'], {})[0]!.reason === 'link_closed', 'the drop');
    await alice.c.reconnect();
    expect((await bob.version('alice')).version).toBe(told.version);
    expect(bob.heard).toEqual([]);
  });

  it("EXT-2 EXT-5 switching to 'friends' moves nothing a friend sees", async () => {
    const server = await serve();
    server.core.changeFriends('alice', ['bob'], true);
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    await bob.c.subscribeUserStatus({ userIDList: ['alice'] });
    const before = await bob.version('alice');
    await alice.c.setVisibility('friends');
    expect(await bob.version('alice')).toEqual(before);
    expect(bob.heard).toEqual([]);
  });

  it('EXT-2 EXT-5 a second change of visibility of a user already hidden moves nothing the hidden viewer sees', async () => {
    const server = await serve();
    server.core.changeFriends('alice', ['bob'], true);
    const alice = await client(server, 'alice');
    const carol = await client(server, 'carol');
    await carol.c.subscribeUserStatus({ userIDList: ['alice'] });
    await alice.c.setVisibility('nobody');
    await until(() => carol.heard.length === 1, 'carol told alice hid');
    const hidden = await carol.version('alice');
    expect(hidden).toMatchObject({ statusType: TYPES.USER_STATUS_UNLOGINED, version: carol.heard[0]!.version });
    await alice.c.setVisibility('friends');
    await alice.c.setVisibility('nobody');
    expect(await carol.version('alice')).toEqual(hidden);
    expect(carol.heard).toHaveLength(1);
  });
});
