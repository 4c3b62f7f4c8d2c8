// The compact bus form of pushes (src/cluster/pushCodec.ts): what parseMessage reads back is what was encoded,
// whatever the bodies (a status change's in its flat form, anything else as it is), and a message that is not
// exactly that form is dropped whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, parseMessage, type Push } from '../../src/cluster/messages';
import { EVENT } from '../../src/events';

const status = fc.record({
  userID: fc.string(),
  statusType: fc.integer({ min: 0, max: 3 }),
  customStatus: fc.string({ unit: 'grapheme' }),
  version: fc.nat(),
  reason: fc.constantFrom('login', 'custom_status_set', 'heartbeat_timeout'),
});
const statusEvent = fc.record({ name: fc.constant(EVENT.USER_STATUS_UPDATED), data: fc.array(status, { maxLength: 4 }) });
const body = fc.oneof(
  fc.record({ us: fc.array(fc.string(), { maxLength: 5 }), e: statusEvent, s: fc.nat() }),
  fc.record({ u: fc.string(), e: statusEvent, s: fc.nat() }),
  fc.record({ u: fc.string(), e: statusEvent, s: fc.nat(), d: fc.string() }),
  // Not a status body, or one with a field more: it goes as it is.
  fc.record({ u: fc.string(), e: fc.record({ name: fc.constant(EVENT.KICKED_OUT), data: fc.record({ type: fc.constant('multipleDevice'), code: fc.nat(), message: fc.string() }) }), s: fc.nat() }),
  fc.record({ us: fc.array(fc.string()), e: fc.record({ name: fc.constant(EVENT.USER_STATUS_UPDATED), data: fc.array(fc.record({ userID: fc.string(), statusType: fc.nat(), customStatus: fc.string(), version: fc.nat(), reason: fc.string(), extra: fc.nat() })) }), s: fc.nat() }),
  fc.jsonValue(),
);
const push = fc.record({ t: fc.constant('push' as const), shard: fc.nat(63), epoch: fc.constantFrom('E1', 'E2'), prev: fc.nat(), offset: fc.nat(), body });

describe('cluster push codec', () => {
  it('NTF-6 parseMessage(encode(pushes)) is the pushes, in order, for any bodies', () => {
    fc.assert(
      fc.property(fc.array(push, { minLength: 1, maxLength: 8 }), (list) => {
        const m = parseMessage(encode({ t: 'pushes', list: list as Push[] }));
        // JSON's own round trip is the reference (what the bus carried before: -0 reads back as 0, and so on).
        const want = JSON.parse(JSON.stringify(list)) as Push[];
        expect(m).toEqual(want.length === 1 ? want[0] : { t: 'pushes', list: want });
      }),
      { numRuns: 300 },
    );
  });

  it('NTF-6 a status change goes in its flat form (no key names), read back with the keys in the engine order', () => {
    const st = { userID: 'a', statusType: 1, customStatus: 'x "y"', version: 3, reason: 'custom_status_set' };
    const raw = encode({ t: 'push', shard: 2, epoch: 'E', prev: 1, offset: 2, body: { us: ['b', 'c'], e: { name: EVENT.USER_STATUS_UPDATED, data: [st] }, s: 9 } });
    expect(raw).toBe('["P",2,"E",1,1,2,[1,9,["b","c"],"a",1,"x \\"y\\"",3,"custom_status_set"]]');
    const m = parseMessage(raw) as Push;
    expect(Object.keys((m.body as { e: { data: object[] } }).e.data[0]!)).toEqual(['userID', 'statusType', 'customStatus', 'version', 'reason']);
  });

  it('NTF-6 a compact message that is not exactly that form is dropped whole (the receiver finds the gap)', () => {
    const ok = '["P",2,"E",1,1,2,[1,9,["b"],"a",1,"x",3,"login"]]';
    expect(parseMessage(ok)).toMatchObject({ t: 'push', shard: 2, offset: 2 });
    for (const bad of [
      '["P"]',
      '["Q",2,"E",1,1,2,[0,1]]',
      '["P",2,"E",2,1,2,[0,1]]', // says 2 pushes, has 1
      '["P",2,"E",1,1,"2",[0,1]]',
      '["P",2,3,1,1,2,[0,1]]',
      '["P",2,"E",1,1,2,[1,9,["b"],"a",1,"x",3]]', // a status short of a field
      '["P",2,"E",1,1,2,[1,9,["b"],"a","1","x",3,"login"]]',
      '["P",2,"E",1,1,2,[1,9,[7],"a",1,"x",3,"login"]]',
      '["P",2,"E",1,1,2,[2,9,"a",5,"a",1,"x",3,"login"]]',
      '["P",2,"E",1,1,2,[7,9]]',
      '["P",2,"E",1,1,2,[0,1,2]]',
      '["P",2,"E",1,1,2',
    ]) {
      expect(parseMessage(bad), bad).toBeUndefined();
    }
  });
});
