// The system under test of the model-based tests: a real engine on xstate's SimulatedClock, one in-process
// client per device, and a recorder of everything each client hears.
import { SimulatedClock } from 'xstate';
import { LocalClient } from '../../src/client/local';
import { attempt, coreOf, createEngineWithRules } from '../../src/engine/engine';
import { MemoryBroker } from '../../src/broker/memory';
import { routerPort, shardOf } from '../behaviour/sharded';
import type { Rules } from '../../src/engine/rules/index';
import type { InternalMachines } from '../../src/engine/runners';
import { createClient, EVENT, type Client, type ClientEvent, type Engine, type MachineOverrides } from '../../src/index';
import { CLIENT_PLATFORMS, LIMITS, USERS } from './config';

export interface Real {
  engine: Engine;
  clock: SimulatedClock;
  clients: Client[];
  /** What each client heard since the last check. */
  heard: ClientEvent[][];
  /** What `viewer` sees of `userID` now, read with no side effect (checkViews). */
  statusOf(userID: string, viewer: string): { userID: string; statusType: number; customStatus: string; version: number; reason: string };
}

/**
 * `rules`: a broken rule module swapped in (test/properties/variants.ts); the engine's own otherwise.
 * `shards` > 1: that many engines side by side over one MemoryBroker, the users split by a hash
 * (issue 10 item 5), reached through the router port of test/behaviour/sharded.ts.
 */
export async function createReal(machines?: MachineOverrides, rules?: Partial<Rules>, internal?: InternalMachines, shards = 1): Promise<Real> {
  const clock = new SimulatedClock();
  const broker = new MemoryBroker();
  const make = (owns?: (u: string) => boolean) =>
    createEngineWithRules(rules ?? {}, {
      clock,
      broker,
      switches: { userStatus: true, friendStatusNotify: false },
      limits: { ...LIMITS, rateLimit: { ...LIMITS.rateLimit } },
      ...(machines ? { machines } : {}),
      ...(owns ? { owns } : {}),
    }, internal);
  const engines = shards > 1 ? Array.from({ length: shards }, (_, i) => make((u) => shardOf(u, shards) === i)) : [make()];
  const ports = engines.map((e) => coreOf(e));
  const ownerOf = (u: unknown) => ports[typeof u === 'string' ? shardOf(u, shards) : 0]!;
  const port = shards > 1 ? routerPort(ports, ownerOf) : ports[0]!;
  const engine: Engine = shards > 1 ? shardedEngine(engines, (u) => engines[shardOf(u, shards)]!, port) : engines[0]!;
  await engine.registerUsers([...USERS]);
  const heard: ClientEvent[][] = CLIENT_PLATFORMS.map(() => []);
  const clients = CLIENT_PLATFORMS.map((platform, i) => {
    const client = shards > 1 ? new LocalClient(port, platform) : createClient({ engine, platform });
    for (const name of Object.values(EVENT)) client.on(name, (e) => heard[i]!.push(e as ClientEvent));
    return client;
  });
  return { engine, clock, clients, heard, statusOf: (u, viewer) => ownerOf(u).statusOf(u, viewer) };
}

/** The admin of engines side by side, as one: each user's part from its owner, settings on every engine. */
function shardedEngine(engines: Engine[], engineOf: (u: string) => Engine, port: ReturnType<typeof routerPort>): Engine {
  const first = engines[0]!;
  return {
    registerUsers: (ids) => attempt(() => port.registerUsers(ids)),
    addFriends: (u, ids) => attempt(() => port.changeFriends(u, ids, true)),
    removeFriends: (u, ids) => attempt(() => port.changeFriends(u, ids, false)),
    configure: async (change) => {
      for (const e of engines) await e.configure(change);
    },
    queryStatus: (ids, opts) => attempt(() => port.queryStatus(ids, opts)),
    explain: (u) => (typeof u === 'string' ? engineOf(u) : first).explain(u),
    journal: (o) => first.journal(o),
    snapshot: () => first.snapshot(),
    replayStart: () => first.replayStart(),
    journalInfo: () => first.journalInfo(),
    settings: () => first.settings(),
    exportState: async () => {
      const state = await first.exportState();
      for (const id of USERS) {
        const own = (await engineOf(id).exportState()).users[id];
        if (own) state.users[id] = own;
      }
      return state;
    },
    close: async () => {
      for (const e of engines) await e.close();
    },
  };
}

/** Runs a call and turns its settlement into a plain outcome: the value, or the StatusError's code. */
export async function settle(call: () => Promise<unknown> | unknown): Promise<{ ok: unknown } | { code: number; retryAfterMs?: number; error: unknown }> {
  try {
    return { ok: await call() };
  } catch (e) {
    const err = e as { code?: unknown; retryAfterMs?: number; name?: string };
    if (err?.name !== 'StatusError' || typeof err.code !== 'number') throw e;
    return { code: err.code, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}), error: e };
  }
}
