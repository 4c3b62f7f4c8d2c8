// A per-connection request budget: whatever a client sends, the work the server does for one socket is
// bounded. Pure: a token bucket on the caller's clock readings; the socket front-ends (hub, TIM gateway) do
// what the verdict says (answer, refuse with an error, close).
import { readFileSync } from 'node:fs';
import { ErrorCode, StatusError } from '../errors';

export interface RequestBudgetLimits {
  /** Requests a connection may send at once (the bucket's size): an SDK's boot is about 15. */
  burst: number;
  /** Requests per second it may send for ever (the bucket's refill rate). */
  ratePerSec: number;
  /**
   * Refused requests in one episode after which the connection is closed: a client that keeps on after
   * being told is looping, and telling it again costs as much as serving it.
   */
  closeAfterRefusals: number;
}

/**
 * An SDK boots with about 15 requests and then sends a heartbeat every 10-30 s, and limits its own status
 * calls to 20 per 5 s per command (LIM-1 is the engine's own limit, per user): 100 at once and 20 a second
 * leave an honest client far from the edge, and cut a loop (thousands a second) off within tens of ms.
 */
export const DEFAULT_REQUEST_BUDGET: Readonly<RequestBudgetLimits> = Object.freeze({ burst: 100, ratePerSec: 20, closeAfterRefusals: 100 });

export interface RequestBudgetState {
  tokens: number;
  /** Clock time of the last refill. */
  at: number;
  /** Refusals since the bucket last ran dry; an episode ends only when the bucket is full again. */
  refusals: number;
}

export type BudgetVerdict =
  /** Serve the request. */
  | { kind: 'serve' }
  /** Refuse it with `error`; `first` is the episode's first refusal (log it once). */
  | { kind: 'refuse'; error: StatusError; first: boolean }
  /** The client kept on: close the connection (nothing is served or answered). */
  | { kind: 'close'; reason: string };

/**
 * Bytes of a frame that one request stands for: a frame is charged one request more for each whole 16 KiB it
 * is read as (what it inflates to, for a compressed frame), so the parsing one socket can ask for is bounded
 * by bytes as well as by frames. An SDK's requests are a few KiB at most: each costs one.
 */
export const BYTES_PER_REQUEST = 16 * 1024;

/** The requests a frame of `bytes` costs: 1, plus one per whole BYTES_PER_REQUEST. */
export const requestCost = (bytes: number): number => 1 + Math.floor(Math.max(0, bytes) / BYTES_PER_REQUEST);

export function newBudget(limits: RequestBudgetLimits, now: number): RequestBudgetState {
  return { tokens: limits.burst, at: now, refusals: 0 };
}

/** Checks limits once, where a front-end is configured: a bad budget is a startup error, not a silent default. */
export function checkBudgetLimits(limits: RequestBudgetLimits): RequestBudgetLimits {
  for (const [name, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new StatusError(ErrorCode.INVALID_PARAMETER, `invalid parameter requestBudget.${name}: expected a positive number, got ${String(v)}`, {
        param: `requestBudget.${name}`,
      });
    }
  }
  if (limits.burst < 1) throw new StatusError(ErrorCode.INVALID_PARAMETER, 'invalid parameter requestBudget.burst: at least 1', { param: 'requestBudget.burst', limit: 1 });
  return limits;
}

/**
 * One request arrives at clock time `now`: the next state and what to do with it. Every request costs one
 * token, refused ones included (they are what a loop sends), so a client that keeps on never earns its way
 * back in by the trickle of refill: the episode ends only once it has been quiet long enough to fill the bucket.
 * A large frame costs `cost` tokens (requestCost): it is served while one token is left, and the rest is a debt
 * the refill pays back before the next one is served.
 */
export function spend(state: RequestBudgetState, now: number, limits: RequestBudgetLimits, cost = 1): { state: RequestBudgetState; verdict: BudgetVerdict } {
  const elapsed = Math.max(0, now - state.at); // a clock that steps back refills nothing
  const tokens = Math.min(limits.burst, state.tokens + (elapsed * limits.ratePerSec) / 1000);
  const refusals = tokens >= limits.burst ? 0 : state.refusals;
  // Inside an episode the refill is served too (an SDK that was only bursting goes on working), but it does
  // not end the episode.
  if (tokens >= 1) return { state: { tokens: tokens - cost, at: now, refusals }, verdict: { kind: 'serve' } };
  const next = { tokens, at: now, refusals: refusals + 1 };
  if (next.refusals > limits.closeAfterRefusals) {
    return { state: next, verdict: { kind: 'close', reason: `request budget exceeded ${limits.closeAfterRefusals} times` } };
  }
  const retryAfterMs = Math.ceil(((1 - tokens) * 1000) / limits.ratePerSec);
  const error = new StatusError(
    ErrorCode.RATE_LIMITED,
    `request budget of this connection exceeded: at most ${limits.burst} requests at once and ${limits.ratePerSec} per second ` +
      `(requestBudget); retry in ${retryAfterMs} ms, or the connection is closed`,
    { limit: limits.ratePerSec, limitName: 'requestBudget.ratePerSec', retryAfterMs, requests: limits.burst, windowMs: 1000 },
  );
  return { state: next, verdict: { kind: 'refuse', error, first: next.refusals === 1 } };
}

/** The stateful convenience the front-ends hold per connection: the state, the limits, and the clock. */
export class RequestBudget {
  private state: RequestBudgetState;

  constructor(
    private readonly limits: RequestBudgetLimits,
    private readonly now: () => number,
  ) {
    this.state = newBudget(limits, now());
  }

  /** A frame of `bytes` (as received) arrives. */
  take(bytes = 0): BudgetVerdict {
    const r = spend(this.state, this.now(), this.limits, requestCost(bytes));
    this.state = r.state;
    return r.verdict;
  }

  /**
   * A served frame turned out larger than it was charged for (a compressed one, inflated): the difference is
   * owed, paid by the refill before the next frame is served.
   */
  owe(chargedBytes: number, readBytes: number): void {
    this.state = { ...this.state, tokens: this.state.tokens - Math.max(0, requestCost(readBytes) - requestCost(chargedBytes)) };
  }
}

// -----------------------------------------------------------------------------------------------------------
// Sockets not logged in yet, per address: a socket costs a file descriptor and ~20 KiB from its upgrade until
// its login deadline (30-60 s), before any UserSig is checked, so without a cap one address could hold every
// descriptor of the process and lock everyone else out. Counted at the upgrade (server.ts); a socket leaves
// the count once it has proved a UserSig or closed. Relays from other nodes are not counted (their node did).

export interface PendingLimits {
  /** Open sockets from one address (IPv6: one /64) that have not logged in; one more is refused at the upgrade. 0: no cap. */
  perAddress: number;
  /**
   * Addresses never counted: an address, or an IPv4 network as `a.b.c.d/n` (an IPv4-mapped IPv6 address
   * matches it too). Loopback by default (benchmarks and tests, which spread their sockets over 127.0.x.y
   * so as not to run out of ports, and a balancer on the same host).
   */
  exempt: readonly string[];
  /**
   * Open sockets not logged in from all addresses together (exempt ones too: a descriptor is a descriptor);
   * one more is refused at the upgrade. Many addresses under their own cap could otherwise still take every
   * descriptor. 0 or absent: no cap.
   */
  total?: number;
  /**
   * At the total, the oldest socket not logged in is closed to make room for the new one once it has been open
   * this long (an honest login takes well under it), so that a flood must keep re-opening its sockets faster
   * than total / evictAfterMs a second to keep newcomers out; only when none is that old is the upgrade
   * refused. Default 10,000 ms; 0: never close one (refuse at once).
   */
  evictAfterMs?: number;
}

/**
 * Half the process's soft limit on open files (the other half: logged-in sockets, the store, the log, Redis),
 * read from /proc/self/limits; 4,096 where that cannot be read (not Linux) or says unlimited.
 */
export function defaultPendingTotal(limits = readFileLimit()): number {
  return limits === null || !Number.isFinite(limits) ? 4096 : Math.max(64, Math.floor(limits / 2));
}

function readFileLimit(): number | null {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null;
  } catch {
    return null;
  }
}

export const DEFAULT_PENDING_LIMITS: Readonly<PendingLimits> = Object.freeze({ perAddress: 256, exempt: Object.freeze(['127.0.0.0/8', '::1']), total: defaultPendingTotal() });

/** How often, at most, the total cap looks through every counted socket for those that logged in (see check). */
const PRUNE_EVERY_MS = 100;

const ipv4 = (a: string): number | null => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a.startsWith('::ffff:') ? a.slice(7) : a);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.some((x) => x > 255) ? null : ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
};

/** Whether `address` is `entry` (an address) or inside it (an IPv4 network `a.b.c.d/n`). */
export function exemptBy(entry: string, address: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return entry === address;
  const net = ipv4(entry.slice(0, slash));
  const bits = Number(entry.slice(slash + 1));
  const a = ipv4(address);
  if (net === null || a === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((net & mask) >>> 0);
}

/**
 * The key one address is counted under: an IPv4 address itself, an IPv6 address by its /64 (one host or
 * one network's customer gets a whole /64, so counting single IPv6 addresses would be no cap at all).
 */
export function addressKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => (g || '0').toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** A probe's address key (absent: an exempt address, in the total only). */
const keys = new WeakMap<() => boolean, string>();

export class PendingLogins {
  /** Per address, a probe per open socket not yet seen logged in ("has it proved a UserSig now?"). */
  private readonly by = new Map<string, Set<() => boolean>>();
  /** Every socket counted, exempt addresses too, for the total cap, oldest first: when it opened, how to close it. */
  private readonly all = new Map<() => boolean, { at: number; evict?: () => void }>();
  private prunedAt = -Infinity;
  /** Sockets closed at the total to make room (for the log). */
  evicted = 0;

  constructor(readonly limits: PendingLimits = DEFAULT_PENDING_LIMITS) {}

  private counted(address: string | undefined): address is string {
    return address !== undefined && this.limits.perAddress > 0 && !this.limits.exempt.some((e) => exemptBy(e, address));
  }

  /**
   * Null when one more socket from `address` may open; else why not (the address's own cap first, then the
   * total). Sockets seen logged in leave the count here: those of the address at once, all of them at most
   * every PRUNE_EVERY_MS of `now` (a full look per refused upgrade would cost a flood O(sockets) each).
   */
  check(address: string | undefined, now = 0): StatusError | null {
    const own = this.checkAddress(address);
    if (own) return own;
    const max = this.limits.total ?? 0;
    if (max <= 0 || this.all.size < max) return null;
    if (now - this.prunedAt >= PRUNE_EVERY_MS || now < this.prunedAt) {
      this.prunedAt = now;
      for (const probe of this.all.keys()) if (probe()) this.drop(probe);
      if (this.all.size < max) return null;
    }
    if (this.evictOldest(now)) return null;
    return new StatusError(
      ErrorCode.RATE_LIMITED,
      `too many sockets that have not logged in on this server: at most ${max} from all addresses (pendingLogins.total); retry later`,
      { limit: max, limitName: 'pendingLogins.total', retryAfterMs: 5000 },
    );
  }

  private checkAddress(address: string | undefined): StatusError | null {
    if (!this.counted(address)) return null;
    const key = addressKey(address);
    const open = this.by.get(key);
    if (!open) return null;
    for (const probe of open) if (probe()) this.drop(probe, key);
    const max = this.limits.perAddress;
    if (open.size < max) return null;
    return new StatusError(
      ErrorCode.RATE_LIMITED,
      `too many sockets from ${key === address ? address : `${address} (${key})`} that have not logged in: at most ${max} (pendingLogins.perAddress); log in on those, or close them`,
      { param: 'address', limit: max, limitName: 'pendingLogins.perAddress' },
    );
  }

  /** Closes the oldest socket not logged in if it is past evictAfterMs: room for one more. */
  private evictOldest(now: number): boolean {
    const after = this.limits.evictAfterMs ?? 10_000;
    if (after <= 0) return false;
    // Logged-in ones at the front leave first (each looked at once: amortized O(1) per upgrade).
    for (const [probe, entry] of this.all) {
      if (probe()) {
        this.drop(probe);
        return true;
      }
      if (now - entry.at < after || !entry.evict) return false;
      this.drop(probe);
      this.evicted++;
      entry.evict();
      return true;
    }
    return false;
  }

  /** The probe leaves both counts. */
  private drop(probe: () => boolean, key = keys.get(probe)): void {
    this.all.delete(probe);
    if (key === undefined) return;
    const set = this.by.get(key);
    if (!set) return;
    set.delete(probe);
    if (set.size === 0) this.by.delete(key);
  }

  /**
   * Counts an opened socket until `release` (its close) or until `probe` says it logged in; `now` is when it
   * opened and `evict` closes it (at the total, the oldest goes first).
   */
  track(address: string | undefined, probe: () => boolean, o: { now?: number; evict?: () => void } = {}): () => void {
    const p = () => probe(); // one entry per socket, even if a caller passes the same function twice
    this.all.set(p, { at: o.now ?? 0, ...(o.evict ? { evict: o.evict } : {}) });
    if (this.counted(address)) {
      const key = addressKey(address);
      keys.set(p, key);
      let open = this.by.get(key);
      if (!open) this.by.set(key, (open = new Set()));
      open.add(p);
    }
    return () => this.drop(p);
  }

  /** Sockets counted against their addresses now (exempt ones not), for tests and /healthz. */
  get size(): number {
    let n = 0;
    for (const s of this.by.values()) n += s.size;
    return n;
  }

  /** Sockets counted against the total now. */
  get totalSize(): number {
    return this.all.size;
  }
}
