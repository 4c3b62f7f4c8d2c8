// Every file of machines/ loads and builds its machines (XState checks every target as it builds), every
// compound state names its initial child, and each machine starts. The files are imported inside the tests,
// so that a definition XState refuses at build time fails a test here (and not only the loading of other
// test files, which mutation testing cannot count as a verdict).
/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import { initialTransition, StateMachine, type AnyStateMachine } from 'xstate';

// A glob the test runner resolves itself: every machine file, loaded lazily, and seen as a dependency of this
// test (so that mutation testing runs it for a mutant of any machine file).
const loaders = import.meta.glob<Record<string, unknown>>(['../../machines/*.ts', '!../../machines/index.ts']);
const files = Object.keys(loaders).map((p) => p.slice('../../machines/'.length)).sort();

/** The input of each machine that cannot start without one (a new such machine names its input here). */
const INPUTS: Record<string, unknown> = { deviceLink: { platform: 'web' } };

type Config = { initial?: string; type?: string; states?: Record<string, Config> };

/** The initial leaves, walked from the config as written (not as XState fills it in). */
function initialLeaves(config: Config, path: string): string[] {
  const children = Object.keys(config.states ?? {});
  if (children.length === 0) return [path];
  if (config.type === 'parallel') return children.flatMap((c) => initialLeaves(config.states![c]!, `${path}.${c}`));
  expect(children, `${path}: initial "${config.initial}" must name a child state`).toContain(config.initial);
  return initialLeaves(config.states![config.initial!]!, `${path}.${config.initial}`);
}

describe('the machine definitions', () => {
  for (const file of files) {
    it(`machines/${file} loads, and each machine it exports names its initial states and starts`, async () => {
      const mod = await loaders[`../../machines/${file}`]!();
      const machines = Object.values(mod).filter((v): v is AnyStateMachine => v instanceof StateMachine);
      for (const machine of machines) {
        // Every compound state names an initial child, all the way down.
        expect(initialLeaves(machine.config as Config, machine.id).length).toBeGreaterThan(0);
        // And the machine starts (its context builds from an input, its eventless transitions resolve).
        const [snapshot] = initialTransition(machine, INPUTS[machine.id]);
        expect(snapshot.status).toBe('active');
      }
    });
  }

  it('finds the machines of today', () => {
    expect(files).toEqual(expect.arrayContaining(['access.ts', 'deviceLink.ts', 'rateWindow.ts', 'spec.ts', 'subscriptions.ts', 'userStatus.ts']));
  });
});
