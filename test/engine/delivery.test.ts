// NTF-5 and the delivery loop (src/engine/delivery.ts): each receiving device of a recipient hears a change
// once, whether its user has one device here or several; devices logged in or out by a handler during a
// delivery; a sink that throws stops neither the other recipients nor the engine.
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createEngine, EVENT, type ClientEvent } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import type { DeviceSession } from '../../src/engine/core';

type Heard = string[];

/** An engine core with alice, bob, carol; `device` opens a session whose sink records alice's changes, `alice:custom@seq`. */
function setup() {
  const engine = createEngine({ clock: new SimulatedClock(), switches: { userStatus: true } });
  const core = coreOf(engine);
  core.registerUsers(['alice', 'bob', 'carol']);
  const device = (heard: Heard, also?: (e: ClientEvent, seq: number) => void): DeviceSession =>
    core.openSession('web', (e, seq) => {
      if (e.name === EVENT.USER_STATUS_UPDATED) for (const st of e.data) if (st.userID === 'alice') heard.push(`${st.userID}:${st.customStatus}@${seq}`);
      also?.(e, seq);
    });
  return { engine, core, device };
}

describe('delivery (NTF-5)', () => {
  it('NTF-5 every receiving device of a recipient hears each change once, as its user gains and loses devices here', () => {
    const { core, device } = setup();
    const alice = core.openSession('web', () => {});
    core.login(alice, 'alice');
    const heard: Heard[] = [[], [], []];
    const bobs = heard.map((h) => device(h));
    const step = (custom: string) => {
      for (const h of heard) h.length = 0;
      core.setSelfStatus(alice, { customStatus: custom });
    };
    core.login(bobs[0]!, 'bob');
    core.subscribe(bobs[0]!, { userIDList: ['alice'] });
    step('one device');
    expect(heard.map((h) => h.length)).toEqual([1, 0, 0]);
    core.login(bobs[1]!, 'bob');
    core.login(bobs[2]!, 'bob');
    step('three devices');
    expect(heard.map((h) => h.map((x) => x.split('@')[0]))).toEqual([['alice:three devices'], ['alice:three devices'], ['alice:three devices']]);
    core.logout(bobs[1]!);
    step('two left');
    expect(heard.map((h) => h.length)).toEqual([1, 0, 1]);
    core.logout(bobs[0]!);
    step('one left');
    expect(heard.map((h) => h.length)).toEqual([0, 0, 1]);
    core.logout(bobs[2]!);
    core.login(bobs[1]!, 'bob');
    step('back on another');
    expect(heard.map((h) => h.length)).toEqual([0, 1, 0]);
  });

  it('NTF-5 a device a handler logs in during a delivery does not hear that change again; one logged out before its turn does not hear it', () => {
    const { core, device } = setup();
    const alice = core.openSession('web', () => {});
    core.login(alice, 'alice');
    const first: Heard = [];
    const late: Heard = [];
    const second: Heard = [];
    const lateSession = device(late);
    let secondSession: DeviceSession | undefined;
    // bob's first device logs a second bob device in when it hears alice (bob had one device: now two).
    let once = true;
    const bob1 = device(first, (e) => {
      if (e.name === EVENT.USER_STATUS_UPDATED && e.data[0]!.userID === 'alice' && once) {
        once = false;
        core.login(lateSession, 'bob');
      }
    });
    core.login(bob1, 'bob');
    core.subscribe(bob1, { userIDList: ['alice'] });
    core.setSelfStatus(alice, { customStatus: 'hello' });
    expect(first.map((x) => x.split('@')[0])).toEqual(['alice:hello']);
    expect(late).toEqual([]); // it logged in after the change
    // Now bob has two devices; the first one logs the other out when it hears alice: the other, after it in
    // the walk, must not hear it.
    first.length = 0;
    late.length = 0;
    secondSession = lateSession;
    let again = true;
    const bob3 = device(second, (e) => {
      if (e.name === EVENT.USER_STATUS_UPDATED && e.data[0]!.userID === 'alice' && again) {
        again = false;
        core.logout(secondSession!);
      }
    });
    core.logout(bob1);
    core.logout(lateSession);
    core.login(bob3, 'bob');
    core.login(lateSession, 'bob'); // after bob3 in the walk
    core.setSelfStatus(alice, { customStatus: 'bye' });
    expect(second.map((x) => x.split('@')[0])).toEqual(['alice:bye']);
    expect(late).toEqual([]);
  });

  it('NTF-5 a sink that throws stops neither the other devices of its user, nor other users, nor the engine', () => {
    const { core, device } = setup();
    const alice = core.openSession('web', () => {});
    core.login(alice, 'alice');
    const bobHeard: Heard = [];
    const carolHeard: Heard = [];
    const thrower = core.openSession('web', () => {
      throw new Error('app bug');
    });
    const bob2 = device(bobHeard);
    const carol = device(carolHeard);
    // bob: the throwing device first, then one that records (several devices); carol: one device that records
    // after a user whose only device throws (one device).
    core.login(thrower, 'bob');
    core.login(bob2, 'bob');
    const carolThrower = core.openSession('web', () => {
      throw new Error('app bug');
    });
    core.registerUsers(['dave']);
    core.login(carolThrower, 'dave');
    core.login(carol, 'carol');
    for (const s of [thrower, carolThrower, carol]) core.subscribe(s, { userIDList: ['alice'] });
    const seq0 = core.setSelfStatus(alice, { customStatus: 'one' }).version;
    expect(seq0).toBeGreaterThan(0);
    expect(bobHeard.map((x) => x.split('@')[0])).toEqual(['alice:one']);
    expect(carolHeard.map((x) => x.split('@')[0])).toEqual(['alice:one']);
    // The engine carries on, and the throwing devices count as having heard it (their seq moved on).
    core.setSelfStatus(alice, { customStatus: 'two' });
    expect(bobHeard.map((x) => x.split('@')[0])).toEqual(['alice:one', 'alice:two']);
    expect(carolHeard.map((x) => x.split('@')[0])).toEqual(['alice:one', 'alice:two']);
    const lastSeq = Number(carolHeard[1]!.split('@')[1]);
    expect(thrower.lastSeq).toBe(lastSeq);
    expect(carolThrower.lastSeq).toBe(lastSeq);
  });
});
