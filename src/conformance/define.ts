// How a conformance test is written: a title that names its clauses, the capabilities it needs, and a body
// that gets a small world (prefixed users, recorded devices, admin, time). The runner (runner.ts) and our
// vitest adapter (test/behaviour/suite.ts) both run these.
import type { ConfigChange, Platform } from '../types';
import { capabilitiesOf, record, type Capabilities, type Capability, type Device, type Target } from './target';

const CLAUSE_ID = /\b[A-Z]+-\d+\b/g;

export interface ConformanceTest {
  /** The title, beginning with the ids of the clauses it checks (`'SUB-3 subscribing to yourself ...'`). */
  readonly title: string;
  readonly clauses: readonly string[];
  readonly needs: readonly Capability[];
  run(t: TestContext): Promise<void>;
}

export interface TestContext {
  readonly target: Target;
  readonly caps: Capabilities;
  /** Fresh users (prefixed) and the default settings with userStatus on, then `settings` applied. */
  world<N extends string>(names: N[], settings?: ConfigChange): Promise<World<N>>;
}

export interface World<N extends string> {
  /** The prefixed userID of each name. */
  u: Record<N, string>;
  /** A userID in this test's namespace that is not registered. */
  ghost(name: string): string;
  device(who: N, platform?: Platform): Device;
  /** A device logged in as `who`, its record cleared. */
  online(who: N, platform?: Platform): Promise<Device>;
  status(who: N): Promise<{ userID: string; statusType: number; customStatus: string }>;
  settle(): Promise<void>;
  clearAll(): void;
  admin: Target['admin'];
  advance(ms: number): Promise<void>;
}

export function test(title: string, needs: Capability[], run: (t: TestContext) => Promise<void>): ConformanceTest;
export function test(title: string, run: (t: TestContext) => Promise<void>): ConformanceTest;
export function test(title: string, a: Capability[] | ((t: TestContext) => Promise<void>), b?: (t: TestContext) => Promise<void>): ConformanceTest {
  const run = typeof a === 'function' ? a : b!;
  const needs = typeof a === 'function' ? [] : a;
  return Object.freeze({ title, clauses: Object.freeze(clauseIds(title)), needs: Object.freeze([...needs]), run });
}

/** The clause ids a title names, in order, each once. */
export function clauseIds(title: string): string[] {
  return [...new Set(title.match(CLAUSE_ID) ?? [])];
}

/** A context for one test; `cleanup()` destroys every device it made. */
export function createContext(target: Target): TestContext & { cleanup(): Promise<void> } {
  const devices: Device[] = [];
  const caps = capabilitiesOf(target);
  return {
    target,
    caps,
    async world<N extends string>(names: N[], settings?: ConfigChange): Promise<World<N>> {
      await target.reset();
      if (settings) await target.admin.configure(settings);
      const p = target.prefix();
      const u = Object.fromEntries(names.map((n) => [n, p + n])) as Record<N, string>;
      await target.admin.register(Object.values(u));
      const device = (who: N, platform: Platform = 'web'): Device => {
        const d = record(target.client(platform), u[who]);
        devices.push(d);
        return d;
      };
      return {
        u,
        ghost: (name) => `${p}${name}-unregistered`,
        device,
        async online(who, platform = 'web') {
          const d = device(who, platform);
          await d.client.login({ userID: d.userID, userSig: target.userSig(d.userID) });
          await target.settle();
          d.clear();
          return d;
        },
        status: async (who) => (await target.admin.queryStatus([u[who]]))[0]!,
        settle: () => target.settle(),
        clearAll: () => devices.forEach((d) => d.clear()),
        admin: target.admin,
        advance: (ms) => target.advance(ms),
      };
    },
    async cleanup() {
      await Promise.all(devices.map((d) => d.client.destroy().catch(() => undefined)));
      devices.length = 0;
    },
  };
}
