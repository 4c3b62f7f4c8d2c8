// docs/conformance-suite.md stays true to the suite: its table lists every test with the capabilities it
// needs, and its count of tests and clauses is the suite's.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceTests } from '../../src/conformance/suite/index';
import { CAPABILITY_NAMES } from '../../src/conformance/target';

const doc = readFileSync(join(resolve(__dirname, '../..'), 'docs/conformance-suite.md'), 'utf8');

describe('docs/conformance-suite.md', () => {
  it('lists every test of the suite with what it needs', () => {
    for (const t of conformanceTests) {
      expect(doc).toContain(`| ${t.title.replace(/\|/g, '\\|')} | ${t.needs.map((n) => CAPABILITY_NAMES[n]).join(', ') || '—'} |`);
    }
    expect(doc.match(/^\| [A-Z]+-\d+ /gm)).toHaveLength(conformanceTests.length);
  });

  it('gives the suite its true size, and names every capability', () => {
    const clauses = new Set(conformanceTests.flatMap((t) => t.clauses));
    expect(doc).toContain(`${clauses.size} clauses of sections 1-12 in ${conformanceTests.length} tests`);
    for (const name of Object.values(CAPABILITY_NAMES)) expect(doc).toContain(`| ${name} |`);
  });
});
