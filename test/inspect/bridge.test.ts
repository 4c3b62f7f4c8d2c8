// The inspection bridge of the embedded engine (src/engine/inspect.ts): what an XState inspector is told, in
// which order, with which source and parent; the user filter; and that stand-ins go when their user is idle.
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createClient, createEngine, ErrorCode, type InspectionEventLike } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import { userFilter } from '../../src/engine/inspect';

function watched(extra: Record<string, unknown> = {}) {
  const seen: InspectionEventLike[] = [];
  const engine = createEngine({
    clock: new SimulatedClock(),
    switches: { userStatus: true },
    inspect: (e) => seen.push(e as InspectionEventLike),
    ...extra,
  });
  const line = (e: InspectionEventLike) => {
    const id = e.actorRef.sessionId;
    if (e.type === '@xstate.actor') return `actor ${id} ${JSON.stringify((e.actorRef.getSnapshot() as { value: unknown }).value)}`;
    if (e.type === '@xstate.event') return `event ${id} ${e.event.type} from ${(e as { sourceRef?: { sessionId: string } }).sourceRef?.sessionId ?? '-'}`;
    return `snapshot ${id} ${JSON.stringify((e.snapshot as { value: unknown }).value)}`;
  };
  const ofUsers = () => seen.filter((e) => !e.actorRef.sessionId.startsWith('x:') && e.actorRef.id !== undefined && /:/.test(e.actorRef.sessionId));
  return { engine, seen, lines: () => ofUsers().map(line) };
}

describe('the inspection bridge', () => {
  it('registers each instance with its snapshot before the first step, with the device link as the sender', async () => {
    const w = watched();
    await w.engine.registerUsers(['alice']);
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'alice' });
    const lines = w.lines();
    const link = lines.find((l) => l.startsWith('actor deviceLink:alice/'))!.split(' ')[1]!;
    expect(lines.slice(0, 4)).toEqual([
      `actor ${link} "live"`,
      'actor userStatus:alice "registered"',
      `event userStatus:alice DEVICE.LOGIN from ${link}`,
      'snapshot userStatus:alice "online"',
    ]);
    // The link names its user: its id, and its parent.
    const reg = w.seen.find((e) => e.type === '@xstate.actor' && e.actorRef.sessionId === link)!;
    expect(link.startsWith('deviceLink:alice/')).toBe(true);
    expect(reg.actorRef.getSnapshot()).toMatchObject({ value: 'live', context: { platform: 'web' } });
  });

  it("a device's calls (STATUS.SET, SUB.ADD, SUB.REMOVE) come from its link in the sequence view", async () => {
    const w = watched();
    await w.engine.registerUsers(['alice', 'bob']);
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'alice' });
    await c.setSelfStatus({ customStatus: 'busy' });
    await c.subscribeUserStatus({ userIDList: ['bob'] });
    await c.unsubscribeUserStatus({ userIDList: ['bob'] });
    const lines = w.lines();
    const link = lines.find((l) => l.startsWith('actor deviceLink:alice/'))!.split(' ')[1]!;
    expect(lines).toContain(`event userStatus:alice STATUS.SET from ${link}`);
    expect(lines).toContain(`event subscriptions:alice SUB.ADD from ${link}`);
    expect(lines).toContain(`event subscriptions:alice SUB.REMOVE from ${link}`);
  });

  it('reports link losses, the link opening again and the reset at reconnect, and who sent what', async () => {
    const w = watched();
    await w.engine.registerUsers(['alice']);
    const c = createClient({ engine: w.engine, platform: 'ios' });
    await c.login({ userID: 'alice' });
    c.disconnect('link_closed');
    await c.reconnect();
    const lines = w.lines();
    const link = lines.find((l) => l.startsWith('actor deviceLink:alice/'))!.split(' ')[1]!;
    // The flap machine (EXT-7, grace off here) hears every change too; its steps are checked apart.
    const flap = lines.filter((l) => l.includes(' flap:alice'));
    expect(flap).toContain('event flap:alice STATUS.CHANGED from userStatus:alice');
    // So does the login's rate window (EXT-6, per device), which steps right after the login.
    expect(lines).toContain(`event rateWindow:login:${link.split('/')[1]} RATE.REQUEST from -`);
    const others = lines.filter((l) => !l.includes(' flap:alice') && !l.includes(' rateWindow:login:'));
    const after = others.slice(others.indexOf('snapshot userStatus:alice "online"') + 1);
    expect(after).toEqual([
      `event ${link} LINK.CLOSED from -`,
      `snapshot ${link} "closed"`,
      `event userStatus:alice DEVICE.DISCONNECT from ${link}`,
      'snapshot userStatus:alice "offline"',
      `event ${link} xstate.init from -`,
      `snapshot ${link} "live"`,
      `event userStatus:alice DEVICE.RECONNECT from ${link}`,
      'snapshot userStatus:alice "online"',
    ]);
    // Parents: the link and the subscription list belong to the user's status machine.
    const parents = w.seen
      .filter((e) => e.type === '@xstate.actor')
      .map((e) => [e.actorRef.sessionId, (e.actorRef as unknown as { _parent?: { sessionId: string } })._parent?.sessionId]);
    expect(parents).toContainEqual([link, 'userStatus:alice']);
    expect(parents).toContainEqual(['userStatus:alice', undefined]);
  });

  it('reports a call the rate machine refuses, and the subscription list hearing of a logout from its user', async () => {
    const w = watched({ limits: { rateLimit: { requests: 1, windowMs: 60_000 } } });
    await w.engine.registerUsers(['alice', 'bob']);
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'alice' });
    await c.subscribeUserStatus({ userIDList: ['bob'] });
    await expect(c.subscribeUserStatus({ userIDList: ['bob'] })).rejects.toMatchObject({ code: ErrorCode.RATE_LIMITED });
    const rate = w.seen.filter((e) => e.actorRef.sessionId === 'rateWindow:subscribeUserStatus:alice');
    expect(rate.filter((e) => e.type === '@xstate.event')).toHaveLength(2);
    expect((rate[0]!.actorRef as unknown as { _parent?: { sessionId: string } })._parent?.sessionId).toBe('userStatus:alice');
    await c.logout();
    expect(w.lines()).toContain('event subscriptions:alice OWNER.LOGGED_OUT from userStatus:alice');
  });

  it('inspectUsers limits it to some users; the others get no stand-in', async () => {
    const w = watched({ inspectUsers: 'vip-*' });
    await w.engine.registerUsers(['vip-1', 'pleb']);
    const a = createClient({ engine: w.engine });
    const b = createClient({ engine: w.engine });
    await a.login({ userID: 'vip-1' });
    await b.login({ userID: 'pleb' });
    const ids = new Set(w.seen.map((e) => e.actorRef.sessionId));
    expect([...ids].some((id) => id.includes('pleb'))).toBe(false);
    expect(ids.has('userStatus:vip-1')).toBe(true);
    const bridge = (coreOf(w.engine) as unknown as { inspector: { size: number; current(): unknown[] } }).inspector;
    expect(bridge.current().length).toBe(bridge.size);
    expect(bridge.size).toBe(3); // vip-1's status machine, its flap machine (EXT-7) and its link
  });

  it('stand-ins go when their user has no device left', async () => {
    const w = watched();
    const bridge = (coreOf(w.engine) as unknown as { inspector: { size: number } }).inspector;
    await w.engine.registerUsers(['alice']);
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'alice' });
    await c.subscribeUserStatus({ userIDList: [] }).catch(() => undefined);
    expect(bridge.size).toBeGreaterThan(0);
    await c.logout();
    await Promise.resolve();
    expect(bridge.size).toBe(0);
  });

  it('memory is bounded: 300 users online hold three stand-ins each (status, flap, link), and none once they left (bench/inspect.ts has the bytes)', async () => {
    const w = watched();
    const bridge = (coreOf(w.engine) as unknown as { inspector: { size: number; current(): unknown[] } }).inspector;
    const ids = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await w.engine.registerUsers(ids);
    const clients = ids.map(() => createClient({ engine: w.engine }));
    for (const [i, c] of clients.entries()) await c.login({ userID: ids[i]! });
    expect(bridge.size).toBe(900);
    expect(bridge.current()).toHaveLength(900); // what a late viewer is sent: every actor, not the last 200 events
    for (const c of clients) await c.logout();
    await Promise.resolve();
    expect(bridge.size).toBe(0);
  });

  it('LIM-2 a non-function inspect (or one given as undefined, as createBrowserInspector() in Node gives) is refused with 6017 naming it', () => {
    for (const inspect of [undefined, null, 'x', {}]) {
      expect(() => createEngine({ inspect } as never)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_PARAMETER, param: 'inspect' }));
    }
    expect(() => createEngine({ inspect: () => {}, inspectUsers: 5 } as never)).toThrow(expect.objectContaining({ param: 'inspectUsers' }));
    expect(() => createEngine({ inspectUsers: ['a'] } as never)).toThrow(expect.objectContaining({ param: 'inspectUsers' }));
  });

  it('userFilter: lists, globs, /regex/ strings, RegExps and predicates', () => {
    expect(['a', 'b', 'c'].filter(userFilter('a, c'))).toEqual(['a', 'c']);
    expect(['vip-1', 'vip', 'x-vip-2'].filter(userFilter('vip-*'))).toEqual(['vip-1']);
    expect(['u1', 'u22', 'x'].filter(userFilter('/^u\\d$/'))).toEqual(['u1']);
    expect(['u1', 'U2'].filter(userFilter(/^u/gi))).toEqual(['u1', 'U2']);
    expect(['u1', 'U2'].filter(userFilter(['U2']))).toEqual(['U2']);
    expect(['a', 'bb'].filter(userFilter((id) => id.length > 1))).toEqual(['bb']);
    expect(() => userFilter('/(/')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_PARAMETER }));
  });
});
