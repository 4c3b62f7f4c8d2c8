// Pure placement: which shard a user is in, which Redis keys a shard has (one hash tag, so one Redis Cluster
// slot), and which live node should own a shard (rendezvous hashing). No I/O.

export const DEFAULT_SHARDS = 64;
export const MAX_SHARDS = 4096;
export const DEFAULT_PREFIX = 'se';

const utf8 = new TextEncoder();

const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-8 bytes, then murmur3's finaliser so that near keys spread. Stable across versions,
 * platforms and processes: changing it moves every user, so it never changes. The bytes are TextEncoder's
 * (a lone surrogate is U+FFFD), made here without an array per call: every delivery asks for a shard. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function checkShardCount(shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new RangeError(`invalid parameter shards: an integer from 1 to ${MAX_SHARDS}, got ${String(shards)}`);
  }
  return shards;
}

/** The shard of a user. The count is fixed for the life of a cluster's data (resharding is not handled). */
export const shardOf = (userID: string, shards = DEFAULT_SHARDS): number => hash32(userID) % checkShardCount(shards);

/** A shard's Redis keys. `{p:sN}` is the hash tag: every key of shard N maps to one Redis Cluster slot, so
 * one script may touch them all (a script's keys must share a slot in Redis Cluster). */
export interface ShardKeys {
  lease: string;
  fence: string;
  meta: string;
  log: string;
  snap: string;
}
export function shardKeys(shard: number, prefix = DEFAULT_PREFIX): ShardKeys {
  const tag = `${prefix}:{${prefix}:s${shard}}`;
  return { lease: `${tag}:lease`, fence: `${tag}:fence`, meta: `${tag}:meta`, log: `${tag}:log`, snap: `${tag}:snap` };
}
export const nodesKey = (prefix = DEFAULT_PREFIX): string => `${prefix}:{${prefix}:nodes}:live`;
export const nodeChannel = (node: string, prefix = DEFAULT_PREFIX): string => `${prefix}:node:${node}`;

// Redis Cluster's key slot (CRC16/XMODEM of the hash tag, mod 16384), to prove the tags above hold.
const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();
export function crc16(s: string): number {
  let crc = 0;
  for (const b of utf8.encode(s)) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc;
}
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % 16384;
  }
  return crc16(key) % 16384;
}

/** Rendezvous (highest random weight) hashing: the intended owner of a shard among the live nodes. When a
 * node leaves, only its shards move; when one joins, it takes about 1/n of the shards from the others. */
export function ownerOf(shard: number, liveNodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const node of liveNodes) {
    const score = hash32(`${node}\u0000${shard}`);
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** Every shard's intended owner, by shard (undefined: no live node). One rendezvous per shard, for a node that
 * asks it per delivery: the table stands until the member set changes. */
export function intendedOwners(shards: number, liveNodes: readonly string[]): Array<string | undefined> {
  const out = new Array<string | undefined>(checkShardCount(shards));
  for (let s = 0; s < shards; s++) out[s] = ownerOf(s, liveNodes);
  return out;
}

/** Every shard's intended owner. */
export function assignment(shards: number, liveNodes: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (let s = 0; s < checkShardCount(shards); s++) {
    const owner = ownerOf(s, liveNodes);
    if (owner !== undefined) out.set(s, owner);
  }
  return out;
}
