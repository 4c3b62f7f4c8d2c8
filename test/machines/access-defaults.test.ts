// The access machine's settings before any change: SPEC.md "Defaults" has edition Ultimate and the console
// switches off, each switch a real `false` (a settings reader sees the value, not a missing key).
import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { accessMachine, defaultAccessContext } from '../../machines/access';
import { DEFAULT_LIMITS } from '../../machines/spec';

describe('access machine defaults', () => {
  it('LIM-2 GATE-3 GATE-4 starts as Ultimate with both switches off and the default limits', () => {
    const expected = { edition: 'ultimate', switches: { userStatus: false, friendStatusNotify: false }, limits: DEFAULT_LIMITS };
    expect(defaultAccessContext()).toEqual(expected);
    const [s] = initialTransition(accessMachine, {});
    expect(s.context).toEqual(expected);
    // A fresh copy each time: changing one engine's settings cannot change the defaults of the next.
    expect(defaultAccessContext().limits).not.toBe(DEFAULT_LIMITS);
    expect(defaultAccessContext().limits.rateLimit).not.toBe(DEFAULT_LIMITS.rateLimit);
  });
});
