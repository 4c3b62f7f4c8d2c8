// A comeback (adopt / reconnect, DEV-1) whose resume (EXT-2) fails after the device came back: the device is
// back, so the session keeps its user. It used to drop it (userID null while logged in, an impossible state):
// the hub then refused the resume as "kicked out" and the login that followed with 6017 "this device is logged
// in as 'null'", so the device could never log in again (found by bench part 8's chaos step, cluster mode,
// where the resume's read of another node's user fails with NOT_PREPARED when the fetched facts are gone).
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { coreOf } from '../../src/engine/engine';
import { DeviceSession } from '../../src/engine/session';
import { createEngine, ErrorCode, MemoryBroker, StatusError, TYPES, type Broker, type ClientEvent } from '../../src/index';

/** Engines side by side: A owns alice, B owns carol; while `away`, A cannot reach B (as a lost fetch in a cluster). */
async function sideBySide() {
  const clock = new SimulatedClock();
  const inner = new MemoryBroker();
  let away = false;
  const broker: Broker = {
    kind: 'test',
    publish: (u, e, s, d) => inner.publish(u, e, s, d),
    publishMany: (us, e, s) => inner.publishMany(us, e, s),
    attach: (l) => inner.attach(l),
    toOwner: (u, m) => {
      if (away) throw new StatusError(ErrorCode.NOT_OWNER, `the owner of '${u}' is away`);
      return inner.toOwner(u, m);
    },
    close: () => inner.close(),
  };
  const a = createEngine({ clock, broker, switches: { userStatus: true }, owns: (u) => u === 'alice' });
  const b = createEngine({ clock, broker, switches: { userStatus: true }, owns: (u) => u === 'carol' });
  await a.registerUsers(['alice']);
  await b.registerUsers(['carol']);
  const core = coreOf(a);
  const heard: ClientEvent[] = [];
  const first = core.openSession('web', (e) => heard.push(e), 'alice-web');
  core.login(first, 'alice');
  core.subscribe(first, { userIDList: ['carol'] });
  core.linkEvent(first, { type: 'LINK.CLOSED' }); // its socket died
  return { core, first, heard, setAway: (v: boolean) => (away = v) };
}

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as StatusError).code;
  }
  return undefined;
};

describe('a comeback whose resume fails after the device came back', () => {
  it('DEV-1 EXT-2 adopt: the session keeps its user, a retried resume or a login works, and the device is never logged in as nobody', async () => {
    const { core, setAway } = await sideBySide();
    // The hub after the socket came back to a process that does not hold the session: a new session adopts the device.
    const again = core.openSession('web', () => {}, 'alice-web');
    setAway(true);
    expect(codeOf(() => core.adopt(again, 'alice', { versions: {} }))).toBe(ErrorCode.NOT_OWNER);
    // The comeback itself landed (the device is connected again): the session holds it, as alice.
    expect(core.statusOf('alice', null).statusType).toBe(TYPES.USER_STATUS_ONLINE);
    expect(again.loggedIn).toBe(true);
    expect(again.userID).toBe('alice');
    setAway(false);
    // The client's retried resume brings it up to date, and a login on it is a repeat login (not 6017).
    expect(() => core.reconnect(again, { versions: {} })).not.toThrow();
    expect(core.login(again, 'alice').repeatLogin).toBe(true);
  });

  it('DEV-1 a comeback refused before it did anything leaves the new session as it was', async () => {
    const { core } = await sideBySide();
    const again = core.openSession('web', () => {}, 'alice-web');
    expect(codeOf(() => core.adopt(again, 'nobody', {}))).toBe(ErrorCode.NOT_OWNER); // not this engine's user
    expect([again.userID, again.loggedIn]).toEqual([null, false]);
    expect(core.login(again, 'alice').repeatLogin).toBe(false);
  });

  it('the session refuses to be logged in as nobody', () => {
    const s = new DeviceSession('web', () => {}, 'x');
    expect(() => (s.loggedIn = true)).toThrow(/logged in without a user/);
    s.userID = 'alice';
    s.loggedIn = true;
    expect(() => (s.userID = null)).toThrow(/logged in without a user/);
    expect([s.userID, s.loggedIn]).toEqual(['alice', true]);
  });
});
