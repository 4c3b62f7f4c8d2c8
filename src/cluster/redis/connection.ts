// One ioredis connection as the cluster uses it: no offline queue and no silent resend, so a call either
// reaches Redis now or fails at once with a code that says whether it may have been applied; scripts by
// EVALSHA (loaded again after a restart emptied Redis' script cache); reconnects by itself.
import { createHash } from 'node:crypto';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';

/** ioredis types ReplyError as any; Redis' error replies are Errors whose message starts with the code. */
const isReply = (e: unknown): e is Error => e instanceof ReplyError;
import { ClusterError, ClusterErrorCode } from '../errors';
import { SCRIPTS, type ScriptName } from './scripts';

export interface ConnectionOptions {
  /** How long a call may wait for Redis' reply before it is given up as OUTCOME_UNKNOWN. */
  commandTimeoutMs?: number;
  /** How long connect() waits for the first ready connection. */
  connectTimeoutMs?: number;
}

/** Redis refused the command before running it: nothing was applied. */
const NOT_RUN = /^(LOADING|BUSY|MISCONF|READONLY|OOM|NOREPLICAS|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/;

export const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const SHAS = Object.fromEntries(Object.entries(SCRIPTS).map(([k, v]) => [k, sha1(v)])) as Record<ScriptName, string>;

export function redisOptions(o: ConnectionOptions = {}): RedisOptions {
  return {
    // A call made while Redis is away fails now (STORE_UNAVAILABLE) instead of waiting in a queue that
    // would run it later, after its caller has been told it failed.
    enableOfflineQueue: false,
    // In-flight calls fail when the connection drops, and are not sent again on reconnect: the writer
    // decides what to do with an in-doubt batch (it reads the head; a blind resend could not be told apart).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: o.commandTimeoutMs ?? 2_000,
    connectTimeout: o.connectTimeoutMs ?? 2_000,
    // Reconnect for ever, backing off to 1 s: service comes back by itself when Redis does.
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
    lazyConnect: true,
  };
}

export class RedisConnection {
  readonly redis: Redis;
  /** Script calls made (EVALSHA sent), for the group-commit test and the bench. */
  scriptCalls = 0;
  lastError: string | undefined;

  constructor(url: string, o: ConnectionOptions = {}) {
    this.redis = new Redis(url, redisOptions(o));
    this.redis.on('error', (e: Error) => {
      this.lastError = e.message;
    });
  }

  static async connect(url: string, o: ConnectionOptions = {}): Promise<RedisConnection> {
    const c = new RedisConnection(url, o);
    try {
      await c.redis.connect();
      await c.loadScripts();
    } catch (e) {
      // No half-open client left reconnecting in the background: the caller decides when to try again.
      c.redis.disconnect();
      throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `cannot reach redis at ${url} (${e instanceof Error ? e.message : String(e)}${c.lastError ? `: ${c.lastError}` : ''})`);
    }
    return c;
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async loadScripts(): Promise<void> {
    for (const src of Object.values(SCRIPTS)) await this.redis.script('LOAD', src);
  }

  /** Runs one script by EVALSHA. Result arrays come back as strings (or null). */
  async script(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.call(async () => {
      this.scriptCalls += 1;
      try {
        return await this.redis.evalsha(SHAS[name], keys.length, ...keys, ...args);
      } catch (e) {
        // A restarted Redis has an empty script cache; NOSCRIPT means nothing ran, so loading and sending
        // again is safe.
        if (!(isReply(e) && e.message.startsWith('NOSCRIPT'))) throw e;
        await this.redis.script('LOAD', SCRIPTS[name]);
        this.scriptCalls += 1;
        return await this.redis.evalsha(SHAS[name], keys.length, ...keys, ...args);
      }
    });
  }

  private corked = false;
  /**
   * Holds this turn's later writes to the socket until the current synchronous run ends (a nextTick), so that the
   * commands sent meanwhile leave as one write (writev) and reach Redis in one read: a turn's PUBLISHes to every
   * destination node (PushSender.flush sends them in one loop) are one syscall here and one wake-up of Redis,
   * not one per node. Nothing waits longer than before: the uncork comes before any I/O callback can run.
   */
  corkTurn(): void {
    const s = this.redis.stream;
    if (this.corked || s === undefined || s === null || typeof s.cork !== 'function') return;
    this.corked = true;
    s.cork();
    process.nextTick(() => {
      this.corked = false;
      s.uncork();
    });
  }

  /** Runs a plain command (or several) with the same error mapping. */
  async call<T>(run: () => Promise<T>): Promise<T> {
    if (!this.ready) {
      throw new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `redis unavailable (${this.redis.status}${this.lastError ? `: ${this.lastError}` : ''}); nothing was written`);
    }
    try {
      return await run();
    } catch (e) {
      throw mapError(e);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

export function mapError(e: unknown): unknown {
  if (e instanceof ClusterError) return e;
  if (isReply(e)) {
    if (NOT_RUN.test(e.message)) {
      return new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, `redis refused the call (${e.message}); nothing was written`);
    }
    return e; // a bug (bad script, wrong type): not a condition to recover from
  }
  // Sent, but the connection dropped or the reply did not come in time: it may have been applied.
  const msg = e instanceof Error ? e.message : String(e);
  return new ClusterError(ClusterErrorCode.OUTCOME_UNKNOWN, `redis connection lost during the call (${msg}); it may or may not have been applied`);
}
