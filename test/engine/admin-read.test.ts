// The admin reads the dashboard uses through the engine port (EXT-9's neighbours): one user's machines and
// edges, the count of users, who is online. Read only; an unknown user is 70107 like everywhere else.
import { describe, expect, it } from 'vitest';
import { createClient, createEngine, ErrorCode } from '../../src/index';
import { coreOf } from '../../src/engine/engine';

describe('admin reads of the port', () => {
  it('EXT-9 userDetail names the machines\' states and the edges; userCount and onlineUserIDs follow the users', async () => {
    const engine = createEngine({ switches: { userStatus: true } });
    const core = coreOf(engine);
    await engine.registerUsers(['alice', 'bob', 'carol']);
    await engine.addFriends('alice', ['carol']);
    const bob = createClient({ engine });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.setVisibility('friends');

    expect(core.userDetail('alice')).toMatchObject({ statusState: 'userStatus.registered', visibility: 'everyone', subscribers: ['bob'], friends: ['carol'], subscriptions: [] });
    const b = core.userDetail('bob');
    expect(b).toMatchObject({ visibility: 'friends', subscriptions: ['alice'], subscribers: [] });
    expect(b.statusState).toMatch(/^userStatus\.online/);
    expect(core.userCount()).toBe(3);
    expect(core.onlineUserIDs()).toEqual(['bob']);
    await bob.logout();
    expect(core.onlineUserIDs()).toEqual([]);
    expect(() => core.userDetail('nobody')).toThrow(expect.objectContaining({ code: ErrorCode.USER_NOT_FOUND, param: 'userID' }));
    await engine.close();
  });
});
