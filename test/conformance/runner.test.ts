// The suite's own runner and assertions (src/conformance/runner.ts, expect.ts): --only selection, skips
// for a missing capability (with the target's reason), failures with their message, the watchdog, and
// assertions that fail when they should.
import { describe, expect, it } from 'vitest';
import { test } from '../../src/conformance/define';
import { expect as check, failure } from '../../src/conformance/expect';
import { matchesOnly, runTest, skipReason, unmatchedOnly } from '../../src/conformance/runner';
import { clauseSummary, junitReport, outcomeLine, summaryText } from '../../src/conformance/report';
import { parseSpec } from '../../src/conformance/spec';
import { localTarget } from '../../src/conformance/targets/local';
import type { Target } from '../../src/conformance/target';

const stub = (over: Partial<Target> = {}): Target => ({
  name: 'stub',
  admin: { register: async () => {}, addFriends: async () => {}, removeFriends: async () => {}, configure: async () => {}, queryStatus: async () => [] },
  client: () => {
    throw new Error('no clients');
  },
  userSig: () => '',
  advance: async () => {},
  settle: async () => {},
  linkSlackMs: 0,
  dropConnections: async () => {},
  prefix: () => 'p_',
  reset: async () => {},
  close: async () => {},
  ...over,
});

describe('conformance runner', () => {
  it('--only: a clause id selects itself, a family every clause of it, nothing else', () => {
    expect(matchesOnly(['SUB-1'], ['SUB'])).toBe(true);
    expect(matchesOnly(['SUB-1'], ['SUB-1'])).toBe(true);
    expect(matchesOnly(['SUB-10'], ['SUB-1'])).toBe(false);
    expect(matchesOnly(['UNSUB-1'], ['SUB'])).toBe(false);
    expect(matchesOnly(['ST-8', 'DEV-1'], ['DEV'])).toBe(true);
    expect(matchesOnly(['ST-8'], undefined)).toBe(true);
    expect(unmatchedOnly(['SUB', 'SUB-99', 'XYZ'])).toEqual(['SUB-99', 'XYZ']);
  });

  it('a test needing a capability the target lacks is skipped with the reason, and never run', async () => {
    let ran = false;
    const t = test('DEV-2 needs time', ['timeControl', 'configure'], async () => {
      ran = true;
    });
    const target = stub({ capabilities: { timeControl: false }, missing: { timeControl: 'no hook' } });
    expect(skipReason(t, target)).toBe('needs time control (no hook)');
    expect(await runTest(t, target)).toEqual({ status: 'skipped', reason: 'needs time control (no hook)' });
    expect(ran).toBe(false);
    // traits.extensionFields: false (older targets) is the same as the capability missing.
    const ext = test('EXT-1 reasons', ['extensionFields'], async () => {});
    expect((await runTest(ext, stub({ traits: { extensionFields: false } }))).status).toBe('skipped');
  });

  it('a failing assertion or call fails the test with its message; a hung test fails on the watchdog', async () => {
    const wrong = test('CS-2 wrong', async () => check([[1, 'a']]).toEqual([[3, 'a']]));
    expect(await runTest(wrong, stub())).toEqual({ status: 'failed', error: "expected [ [ 1, 'a' ] ] to equal [ [ 3, 'a' ] ]" });
    const coded = test('CS-1 coded', async () => {
      throw Object.assign(new Error('not logged in'), { code: 2024 });
    });
    expect(await runTest(coded, stub())).toEqual({ status: 'failed', error: 'not logged in (code 2024)' });
    const hung = test('CS-3 hangs', () => new Promise<void>(() => {}));
    expect(await runTest(hung, stub(), 20)).toEqual({ status: 'failed', error: 'timed out after 20 ms' });
  });

  it('runs a real test on the in-process target and destroys its devices afterwards', async () => {
    const target = await localTarget();
    let client: { setSelfStatus(o: { customStatus: string }): Promise<unknown> } | undefined;
    const t = test('CS-2 real', async ({ world }) => {
      const w = await world(['a']);
      const a = await w.online('a');
      client = a.client;
      check((await a.client.setSelfStatus({ customStatus: 'x' })).data.customStatus).toBe('x');
    });
    expect(await runTest(t, target)).toEqual({ status: 'passed' });
    expect((await failure(client!.setSelfStatus({ customStatus: 'y' }))).code).toBeGreaterThan(0);
    await target.close();
  });

  it('assertions: toEqual ignores undefined properties only, toMatchObject checks named ones, arrays by length', async () => {
    check({ a: 1, b: undefined }).toEqual({ a: 1 });
    expect(() => check({ a: 1, b: 2 }).toEqual({ a: 1 })).toThrow('to equal');
    check([{ a: 1, b: 2 }]).toMatchObject([{ a: 1 }]);
    expect(() => check([{ a: 1 }, { a: 2 }]).toMatchObject([{ a: 1 }])).toThrow('to match');
    expect(() => check([{ a: 1 }]).toMatchObject([{ a: 2 }])).toThrow('to match');
    expect(() => check('abc').toContain('d')).toThrow("expected 'abc' to contain 'd'");
    expect(() => check([1]).toHaveLength(2)).toThrow('to have length 2');
    expect(() => check(NaN).toBe(NaN)).not.toThrow();
    await expect(failure(Promise.resolve(1))).rejects.toThrow('expected the call to reject, it resolved');
  });

  it('reports: a line per test, clauses in the spec order with FAIL over PASS, XML escaped', () => {
    const clauses = parseSpec('## 1. A (A)\n- A-1 one\n- A-2 two\n');
    const report = {
      target: 't<1>',
      capabilities: { configure: true, timeControl: false, serverDrop: true, nativePlatforms: true, extensionFields: true },
      outcomes: [
        { group: 'g', title: 'A-2 b', clauses: ['A-2'], status: 'passed' as const },
        { group: 'g', title: 'A-1 A-2 a & b', clauses: ['A-1', 'A-2'], status: 'failed' as const, error: 'x < y' },
        { group: 'g', title: 'A-1 c', clauses: ['A-1'], status: 'skipped' as const, reason: 'needs time control' },
      ],
      passed: 1,
      failed: 1,
      skipped: 1,
    };
    expect(outcomeLine(report.outcomes[1]!)).toBe('FAIL  A-1 A-2 a & b\n      x < y');
    expect(outcomeLine(report.outcomes[2]!)).toBe('SKIP  A-1 c  [skipped: needs time control]');
    expect(clauseSummary(report, clauses).map((c) => [c.id, c.verdict])).toEqual([
      ['A-1', 'failed'],
      ['A-2', 'failed'],
    ]);
    expect(summaryText(report, clauses).split('\n').slice(-5)).toEqual(['per clause:', '  A-1  FAIL  1 failed, 1 skipped', '  A-2  FAIL  1 passed, 1 failed', '', '1 passed, 1 failed, 1 skipped']);
    const xml = junitReport(report);
    expect(xml).toContain('<testsuite name="status-engine conformance (t&lt;1&gt;)" tests="3" failures="1" skipped="1">');
    expect(xml).toContain('<testcase classname="g" name="A-1 A-2 a &amp; b"><failure message="x &lt; y">x &lt; y</failure></testcase>');
  });
});
