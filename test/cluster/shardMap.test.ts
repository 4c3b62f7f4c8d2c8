// Placement: stable hashing of users to shards, hash tags that keep a shard's keys in one Redis Cluster
// slot, and rendezvous ownership that moves only what it must.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignment, crc16, hash32, intendedOwners, keySlot, ownerOf, shardKeys, shardOf } from '../../src/cluster/shardMap';

describe('shard map', () => {
  it('a user always maps to the same shard (the hash is part of the data format: these values never change)', () => {
    // Pinned when the hash was chosen: if these change, every stored shard's users would move.
    expect([hash32(''), hash32('alice'), hash32('用户')]).toEqual([2872998923, 3927234078, 92542928]);
    expect(['alice', 'bob', 'carol', 'user-000001'].map((u) => shardOf(u))).toEqual([30, 22, 53, 34]);
    for (let i = 0; i < 100; i++) expect(shardOf(`u${i}`, 64)).toBe(hash32(`u${i}`) % 64);
  });

  it('the hash is over the UTF-8 bytes TextEncoder makes, for any string (lone surrogates too)', () => {
    // The reference: the hash as first written, over TextEncoder's bytes.
    const utf8 = new TextEncoder();
    const reference = (s: string) => {
      let h = 0x811c9dc5;
      for (const b of utf8.encode(s)) h = Math.imul(h ^ b, 0x01000193);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return h >>> 0;
    };
    const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd7f0, max: 0xe010 })), { maxLength: 24 }).map((a) => String.fromCharCode(...a));
    fc.assert(fc.property(fc.oneof(units, fc.string({ unit: 'binary' }), fc.string()), (s) => hash32(s) === reference(s)), { numRuns: 500 });
    for (const s of ['\ud800', 'a\udc00b', '\udbff\udfff', '\u07ff\u0800', '😀x']) expect(hash32(s)).toBe(reference(s));
  });

  it('users spread evenly over 64 shards', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(`user-${i}`)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('refuses a shard count that is not 1..4096', () => {
    for (const bad of [0, -1, 1.5, 5000, Number.NaN]) expect(() => shardOf('u', bad)).toThrow(/invalid parameter shards/);
  });

  it("CRC16 and the key slot are Redis Cluster's (values from the Redis Cluster spec and docs)", () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(keySlot('bar{hash_tag}'));
    expect(keySlot('foo{}bar')).toBe(crc16('foo{}bar') % 16384); // an empty tag is no tag
  });

  it("all of a shard's keys are in one slot; the shards spread over many slots", () => {
    const slots = new Set<number>();
    for (let s = 0; s < 64; s++) {
      const own = new Set(Object.values(shardKeys(s)).map(keySlot));
      expect(own.size).toBe(1);
      slots.add([...own][0]!);
    }
    expect(slots.size).toBeGreaterThan(55);
    expect(shardKeys(3, 'app')).toEqual({ lease: 'app:{app:s3}:lease', fence: 'app:{app:s3}:fence', meta: 'app:{app:s3}:meta', log: 'app:{app:s3}:log', snap: 'app:{app:s3}:snap' });
  });

  it('rendezvous: one owner per shard among the live nodes, about even', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const a = assignment(64, nodes);
    expect(a.size).toBe(64);
    const per = nodes.map((n) => [...a.values()].filter((o) => o === n).length);
    for (const c of per) expect(c).toBeGreaterThan(10);
    expect(ownerOf(0, [])).toBeUndefined();
    expect(ownerOf(5, ['n3', 'n1', 'n2'])).toBe(ownerOf(5, nodes)); // order of the list does not matter
  });

  it('rendezvous: a node leaving moves only its shards; a node joining takes shards only for itself', () => {
    const before = assignment(64, ['n1', 'n2', 'n3']);
    const after = assignment(64, ['n1', 'n3']);
    for (const [s, o] of before) if (o !== 'n2') expect(after.get(s)).toBe(o);
    const joined = assignment(64, ['n1', 'n2', 'n3', 'n4']);
    for (const [s, o] of joined) if (o !== 'n4') expect(before.get(s)).toBe(o);
    expect([...joined.values()].filter((o) => o === 'n4').length).toBeGreaterThan(5);
  });

  it('the owner table a node keeps is the rendezvous of each shard over the same live set', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 5 }), (shards, live) => {
        const t = intendedOwners(shards, live);
        expect(t.length).toBe(shards);
        for (let s = 0; s < shards; s++) expect(t[s]).toBe(ownerOf(s, live));
      }),
    );
    expect(() => intendedOwners(0, ['n1'])).toThrow(/shards/);
  });
});
