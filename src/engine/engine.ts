// The public engine: `createEngine(options)` of shared/spec/API.md. Admin calls return Promises and reject
// with StatusError; clients and servers reach the same core through `coreOf` (not exported from the package).
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { ErrorCode, StatusError, invalidParameter } from '../errors';
import { MemoryStore } from '../store/memory';
import { readSnapshot, SnapshotError, tailAfter, type Snapshot } from '../store/snapshot';
import type { Engine, EngineOptions, JournalEntry, ReplayOptions } from '../types';
import { EngineCore, type EngineStartup } from './core';
import { checkInspectOptions } from './inspect';
import type { EnginePort } from './port';
import { RULES, type Rules } from './rules/index';
import type { InternalMachines } from './runners';

const cores = new WeakMap<Engine, EngineCore>();

/** Runs `fn` now and turns its throw into a rejection, so every call fails the same way. */
export function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function checkOptions(options: unknown): EngineOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidParameter('options', 'createEngine expects an options object');
  }
  const o = options as EngineOptions;
  const clock = o.clock as Partial<Clock> | null | undefined;
  if (
    clock !== undefined &&
    (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function')
  ) {
    throw invalidParameter('clock', 'expected an object with now(), setTimeout(fn, ms) and clearTimeout(id)');
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const hasMethods = (v: unknown, names: string[]) => isObject(v) && names.every((n) => typeof v[n] === 'function');
  const j = o.journal as unknown;
  if (j !== undefined && typeof j !== 'boolean') {
    const max = isObject(j) ? j.maxEntries : null;
    if (!isObject(j) || (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0))) {
      throw invalidParameter('journal', 'expected true, false or {maxEntries: a whole number of 0 or more}');
    }
  }
  if (o.store !== undefined && !hasMethods(o.store, ['hasUser', 'addUsers', 'getStatus', 'putStatus', 'transaction', 'append', 'lastSeq'])) {
    throw invalidParameter('store', 'expected a Store (see MemoryStore)');
  }
  if (o.broker !== undefined && !hasMethods(o.broker, ['publish', 'attach', 'close'])) {
    throw invalidParameter('broker', 'expected a Broker with publish(), attach() and close()');
  }
  if (o.owns !== undefined && typeof o.owns !== 'function') throw invalidParameter('owns', 'expected a function (userID) => boolean');
  checkInspectOptions(o);
  const machines = o.machines as unknown;
  if (machines !== undefined) {
    if (!isObject(machines)) throw invalidParameter('machines', 'expected an object of machine variants');
    for (const [k, m] of Object.entries(machines)) {
      if (!['userStatus', 'subscriptions', 'access', 'rateWindow', 'deviceLink'].includes(k)) {
        throw invalidParameter(`machines.${k}`, 'no such machine: userStatus, subscriptions, access, rateWindow or deviceLink');
      }
      if (m !== undefined && !hasMethods(m, ['provide', 'transition'])) throw invalidParameter(`machines.${k}`, 'expected an XState machine');
    }
  }
  return o;
}

export function createEngine(options?: EngineOptions): Engine {
  return createEngineWithRules({}, options);
}

/**
 * Not exported from the package: an engine with some of its rule modules swapped (src/engine/rules/index.ts),
 * for the broken variants of the property suite, as `options.machines` swaps a machine.
 */
export function createEngineWithRules(rules: Partial<Rules>, options?: EngineOptions, machines: InternalMachines = {}, startup: EngineStartup = {}): Engine {
  const core = new EngineCore(checkOptions(options), { ...RULES, ...rules }, machines, startup);
  const acked = <T>(fn: () => T) => (core.acknowledgesLater ? attempt(fn).then((v) => core.acknowledge(v)) : attempt(fn));
  const engine: Engine = {
    registerUsers: (userIDs) => acked(() => core.registerUsers(userIDs)),
    addFriends: (userID, friendIDs) => acked(() => core.changeFriends(userID, friendIDs, true)),
    removeFriends: (userID, friendIDs) => acked(() => core.changeFriends(userID, friendIDs, false)),
    configure: (change) => acked(() => core.configure(change)),
    queryStatus: (userIDs, opts) => attempt(() => core.queryStatus(userIDs, opts)),
    explain: (userID) => attempt(() => core.explain(userID)),
    journal: (opts) => attempt(() => core.journal(opts)),
    settings: () => attempt(() => core.settings()),
    exportState: () => attempt(() => core.exportState()),
    snapshot: () => attempt(() => core.snapshot()),
    replayStart: () => attempt(() => core.replayStart()),
    journalInfo: () => attempt(() => core.journalInfo()),
    close: () => attempt(() => core.close()),
  };
  cores.set(engine, core);
  return engine;
}

/** The port of an engine made by createEngine: all that front-ends (clients, servers) use of it. */
export function portOf(engine: unknown): EnginePort {
  return coreOf(engine);
}

/** The core behind an engine made by createEngine (the server's own wiring, and tests). */
export function coreOf(engine: unknown): EngineCore {
  const core = cores.get(engine as Engine);
  if (!core) throw invalidParameter('engine', 'expected an engine made by createEngine()');
  return core;
}

/**
 * EXT-3: a new engine rebuilt from a journal, starting empty, or (compaction, issue 9) from `options.snapshot`
 * with the entries after its seq (those at or before it are in it, so `journal()` with `replayStart()` fits
 * as it is). Each command is re-applied at the time it was first applied; timers fire where the journal says
 * they fired, and the ones still pending at the end are armed on `options.clock`. Without a snapshot the
 * journal must start at seq 1; with one, right after the snapshot: a gap is refused (6017, naming the seqs).
 */
export async function replay(entries: Iterable<JournalEntry>, options: ReplayOptions = {}): Promise<Engine> {
  const { snapshot: rawSnapshot, ...opts } = checkOptions(options) as ReplayOptions;
  if (entries === null || typeof entries !== 'object' || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw invalidParameter('entries', 'expected the journal: an array (or iterable) of journal entries');
  }
  const all = [...entries];
  all.forEach((e, i) => {
    const entry = e as Partial<JournalEntry> | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.seq !== 'number' || typeof entry.at !== 'number' || (entry.kind !== 'command' && entry.kind !== 'transition')) {
      throw invalidParameter(`entries[${i}]`, 'expected a journal entry {seq, at, kind, ...}');
    }
  });
  let snapshot: Snapshot | undefined;
  if (rawSnapshot !== undefined && rawSnapshot !== null) {
    try {
      snapshot = readSnapshot(rawSnapshot);
    } catch (e) {
      if (e instanceof SnapshotError) throw invalidParameter(`snapshot.${e.field}`, e.message);
      throw e;
    }
  }
  const list = snapshot ? tailAfter(snapshot, all) : all;
  const first = snapshot ? snapshot.seq + 1 : 1;
  if (list.length > 0 && list[0]!.seq !== first) {
    const where = snapshot ? `the entries after the snapshot at seq ${snapshot.seq}: the next must be seq ${first}` : `the journal from its first entry (seq 1) or a snapshot (options.snapshot)`;
    throw new StatusError(ErrorCode.INVALID_PARAMETER, `replay needs ${where}; these start at seq ${list[0]!.seq} (a gap of ${list[0]!.seq - first} entries)`, { param: 'entries' });
  }
  const base = opts.clock ?? systemClock;
  let fixed: number | null = snapshot ? snapshot.at : null;
  const clock: Clock = {
    now: () => fixed ?? base.now(),
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    clearTimeout: (id) => base.clearTimeout(id),
  };
  let store = opts.store;
  if (snapshot) {
    const journal = opts.journal;
    store ??= new MemoryStore({ journalMaxEntries: journal === false ? 0 : typeof journal === 'object' ? journal.maxEntries : undefined });
    if (!store.restore) throw invalidParameter('store', 'this store cannot start from a snapshot (it has no restore())');
    if (store.userCount() > 0 || store.lastSeq() > 0) throw invalidParameter('store', `a replay starts from an empty store; this one holds ${store.userCount()} users up to seq ${store.lastSeq()}`);
    try {
      store.restore(snapshot);
    } catch (e) {
      if (e instanceof SnapshotError) throw invalidParameter(`snapshot.${e.field}`, e.message);
      throw e;
    }
  }
  const engine = createEngineWithRules({}, { ...opts, ...(store ? { store } : {}), clock }, {}, { adoptStored: !snapshot });
  const core = coreOf(engine);
  if (snapshot) core.compaction.load(snapshot.engine);
  core.replay(list, (t) => (fixed = t));
  fixed = null;
  core.rearm();
  return engine;
}
