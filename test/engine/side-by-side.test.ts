// Issue 10 item 5 (in part): engines side by side in one process, sharing one MemoryBroker. Each keeps its
// own sequence and its own sessions; a delivery either publishes reaches the devices wherever they are held.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { coreOf } from '../../src/engine/engine';
import { createClient, createEngine, EVENT, MemoryBroker, type UserStatus } from '../../src/index';

describe('two engines, one broker', () => {
  it('EXT-2 each engine has its own sequence; deliveries pass through the shared broker to the engine holding the device', async () => {
    const broker = new MemoryBroker();
    const clock = new SimulatedClock();
    const a = createEngine({ broker, clock, switches: { userStatus: true } });
    const b = createEngine({ broker, clock, switches: { userStatus: true } });
    await a.registerUsers(['alice', 'bob']);
    await b.registerUsers(['carol']);
    const seqB = coreOf(b).currentSeq;

    const alice = createClient({ engine: a });
    const bob = createClient({ engine: a });
    const carol = createClient({ engine: b });
    const heard: Record<string, UserStatus[]> = { alice: [], bob: [], carol: [] };
    for (const [id, c] of Object.entries({ alice, bob, carol })) c.on(EVENT.USER_STATUS_UPDATED, (e) => heard[id]!.push(...(e.data as UserStatus[])));
    await alice.login({ userID: 'alice' });
    await bob.login({ userID: 'bob' });
    await carol.login({ userID: 'carol' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    await alice.setSelfStatus({ customStatus: 'a' });

    // Engine a's commands move a's sequence only.
    expect(coreOf(b).currentSeq).toBe(seqB + 2); // carol's login: a command and its transition
    expect(coreOf(a).currentSeq).toBeGreaterThan(coreOf(b).currentSeq);
    // alice's change reached bob (engine a's device) through the broker, and nobody on engine b.
    expect(heard.bob!.map((s) => [s.userID, s.customStatus])).toEqual([['bob', ''], ['alice', 'a']]);
    expect(heard.carol!.map((s) => s.userID)).toEqual(['carol']);
    // A publish on the shared broker for a user held by engine b reaches its device there.
    const note = { userID: 'carol', statusType: 1, customStatus: 'from a', version: 9, reason: 'custom_status_set' } as UserStatus;
    broker.publish('carol', { name: EVENT.USER_STATUS_UPDATED, data: [note] }, 1);
    expect(heard.carol!.at(-1)).toEqual(note);
    // A closed engine stops hearing the broker.
    await a.close();
    broker.publish('bob', { name: EVENT.USER_STATUS_UPDATED, data: [note] }, 1);
    expect(heard.bob).toHaveLength(2);
    await b.close();
  });
});
