// Our own runs of the conformance suite (src/conformance/, exported as status-engine/conformance) through
// vitest: one `it` per test of the suite, named by its title (so docs/conformance.md maps it to its
// clauses), skipped with the runner's reason when the target lacks a capability, failed with its error.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runTest } from '../../src/conformance/runner';
import { SUITE } from '../../src/conformance/suite/index';
import type { Target, TargetFactory } from '../../src/conformance/target';

export interface SuiteOptions {
  /** The target's clients can be native devices (a web SDK cannot). Default true. */
  nativePlatforms?: boolean;
}

export function behaviourSuite(name: string, factory: TargetFactory, options: SuiteOptions = {}): void {
  describe(`behaviour (${name})`, () => {
    let target: Target;
    beforeAll(async () => {
      const t = await factory();
      target =
        options.nativePlatforms === false
          ? { ...t, capabilities: { ...t.capabilities, nativePlatforms: false }, missing: { ...t.missing, nativePlatforms: 'a web SDK is always a web device' } }
          : t;
    }, 30_000);
    afterAll(async () => {
      await target?.close();
    });
    for (const group of SUITE) {
      describe(group.name, () => {
        for (const test of group.tests) {
          it(test.title, async (ctx) => {
            const r = await runTest(test, target);
            if (r.status === 'skipped') ctx.skip(r.reason);
            if (r.status === 'failed') throw new Error(r.error);
          });
        }
      });
    }
  });
}
