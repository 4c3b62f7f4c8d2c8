// EXT-7 with a durable store: a flap hold is the user's flap machine and a durable timer, so it survives a
// restart: others keep seeing what they saw before the flap until the grace ends, then the final state.
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, TYPES } from '../../src/index';
import { SqliteStore } from '../../src/store/sqlite';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('EXT-7 a flap hold across a restart', () => {
  it('EXT-7 EXT-2 the hold and its grace come back with the store; the release happens after the restart', async () => {
    const file = tmp.file('flap.db');
    const clock = new SimulatedClock();
    const options = { clock, switches: { userStatus: true }, limits: { flapGraceMs: 10_000 } };
    let store = new SqliteStore(file);
    let engine = createEngine({ store, ...options });
    await engine.registerUsers(['alice', 'bob']);
    const alice = createClient({ engine, platform: 'ios' });
    await alice.login({ userID: 'alice' });
    const bob = createClient({ engine });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    const seen = (await bob.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!;
    alice.disconnect('link_closed'); // alice OFFLINE; bob is not told yet
    await engine.close();
    store.close();

    clock.increment(3000);
    store = new SqliteStore(file);
    engine = createEngine({ store, clock });
    const bob2 = createClient({ engine });
    await bob2.login({ userID: 'bob' });
    expect((await bob2.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]).toEqual(seen);
    const heard: unknown[] = [];
    bob2.on('onUserStatusUpdated', (e) => heard.push(...(e.data as unknown[])));
    clock.increment(7000);
    expect(heard).toEqual([expect.objectContaining({ userID: 'alice', statusType: TYPES.USER_STATUS_OFFLINE, reason: 'link_closed' })]);
    expect((await bob2.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.statusType).toBe(TYPES.USER_STATUS_OFFLINE);
    await engine.close();
    store.close();
  });
});
