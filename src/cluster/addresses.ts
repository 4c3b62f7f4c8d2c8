// The node address registry (issue 13): where each node of a cluster can be reached by the others, so that a
// node can relay a client to the node that owns the client's user (src/server/cluster/relay.ts). Each node
// registers its `--advertise` URL at start and removes it on a graceful stop; a dead node's entry stays
// until it starts again (harmless: nobody relays to a node that is not in the live set).
import { Redis } from 'ioredis';
import { ClusterError, ClusterErrorCode } from './errors';
import { redisOptions } from './redis/connection';

export interface AddressBook {
  register(nodeId: string, url: string): Promise<void>;
  /** The URL a node registered, or null when it never did. */
  lookup(nodeId: string): Promise<string | null>;
  remove(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** One process's registry (tests: several in-process servers share one). */
export class MemoryAddressBook implements AddressBook {
  private readonly urls = new Map<string, string>();
  async register(nodeId: string, url: string): Promise<void> {
    this.urls.set(nodeId, url);
  }
  async lookup(nodeId: string): Promise<string | null> {
    return this.urls.get(nodeId) ?? null;
  }
  async remove(nodeId: string): Promise<void> {
    this.urls.delete(nodeId);
  }
  async close(): Promise<void> {}
}

/** The key of the registry: one hash, field = node id, value = URL, under the cluster's key prefix. */
export const addressKey = (prefix: string): string => `${prefix}:nodes:addr`;

/**
 * The registry in Redis, on its own connection with the cluster's settings (no offline queue: a lookup while
 * Redis is away fails now with 75001, rather than hanging a client's login). Lookups are cached: a node's
 * address changes only when it restarts, and a stale one fails to connect, which drops the cache entry.
 */
export class RedisAddressBook implements AddressBook {
  private readonly cache = new Map<string, string>();

  private constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  static async connect(url: string, prefix = 'se'): Promise<RedisAddressBook> {
    const redis = new Redis(url, redisOptions());
    redis.on('error', () => {}); // the calls report it; ioredis reconnects by itself
    try {
      await redis.connect();
    } catch (e) {
      redis.disconnect();
      throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `cannot reach redis at ${url} for the node address registry (${(e as Error).message})`);
    }
    return new RedisAddressBook(redis, addressKey(prefix));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `redis is unavailable (${what}): ${(e as Error).message}`);
    }
  }

  async register(nodeId: string, url: string): Promise<void> {
    await this.call('registering the node address', () => this.redis.hset(this.key, nodeId, url));
    this.cache.set(nodeId, url);
  }

  async lookup(nodeId: string): Promise<string | null> {
    const hit = this.cache.get(nodeId);
    if (hit !== undefined) return hit;
    const url = await this.call('looking up a node address', () => this.redis.hget(this.key, nodeId));
    if (url !== null) this.cache.set(nodeId, url);
    return url;
  }

  /** Forgets a cached address (it failed to connect: the node may have restarted elsewhere). */
  forget(nodeId: string): void {
    this.cache.delete(nodeId);
  }

  async remove(nodeId: string): Promise<void> {
    this.cache.delete(nodeId);
    await this.call('removing the node address', () => this.redis.hdel(this.key, nodeId));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
