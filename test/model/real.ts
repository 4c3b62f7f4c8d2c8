// The system under test of the model-based tests: a real engine on xstate's SimulatedClock, one in-process
// client per device, and a recorder of everything each client hears.
import { SimulatedClock } from 'xstate';
import { createEngineWithRules } from '../../src/engine/engine';
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
}

/** `rules`: a broken rule module swapped in (test/properties/variants.ts); the engine's own otherwise. */
export async function createReal(machines?: MachineOverrides, rules?: Partial<Rules>, internal?: InternalMachines): Promise<Real> {
  const clock = new SimulatedClock();
  const engine = createEngineWithRules(rules ?? {}, {
    clock,
    switches: { userStatus: true, friendStatusNotify: false },
    limits: { ...LIMITS, rateLimit: { ...LIMITS.rateLimit } },
    ...(machines ? { machines } : {}),
  }, internal);
  await engine.registerUsers([...USERS]);
  const heard: ClientEvent[][] = CLIENT_PLATFORMS.map(() => []);
  const clients = CLIENT_PLATFORMS.map((platform, i) => {
    const client = createClient({ engine, platform });
    for (const name of Object.values(EVENT)) client.on(name, (e) => heard[i]!.push(e as ClientEvent));
    return client;
  });
  return { engine, clock, clients, heard };
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
