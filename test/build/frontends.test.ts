// Issue 10.3 "one port for the front-ends": no front-end file (server, client, protocol, CLI) imports the
// engine's concrete class or compares machine state ids; they talk to `EnginePort` (src/engine/port.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const FRONT_ENDS = ['src/server', 'src/client', 'src/protocol', 'src/cli.ts'];

function sources(path: string): string[] {
  const url = new URL(path, root);
  if (statSync(url).isFile()) return [path];
  return readdirSync(url, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${path}/${f.split('\\').join('/')}`);
}
const files = FRONT_ENDS.flatMap(sources);
const text = (f: string) => readFileSync(new URL(f, root), 'utf8');

/** The concrete class: its module, or its name anywhere in the code. */
const CONCRETE = /from\s+['"][./]*(?:\.\.\/)*engine\/core['"]|\bEngineCore\b/;
/** A comparison with a machine state id (`'deviceLink.closed'`, `userStatus.online...`), either side. */
const MACHINES = '(?:deviceLink|userStatus|subscriptions|access|rateWindow|flap)';
const STATE_ID_COMPARE = new RegExp(`[!=]==?\\s*['"\`]${MACHINES}\\.|['"\`]${MACHINES}\\.[\\w.]*['"\`]\\s*[!=]==?`);

describe('issue 10.3: front-ends use the engine port only', () => {
  it('finds the front-end files', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files).toEqual(expect.arrayContaining(['src/server/dashboard.ts', 'src/server/restAudit.ts', 'src/client/local.ts', 'src/cli.ts']));
  });

  it('no front-end file imports or names the concrete EngineCore', () => {
    expect(files.filter((f) => CONCRETE.test(text(f)))).toEqual([]);
  });

  it('no front-end file compares a machine state id', () => {
    expect(files.filter((f) => STATE_ID_COMPARE.test(text(f)))).toEqual([]);
  });

  it('the patterns catch what they are meant to catch', () => {
    expect(CONCRETE.test("import type { EngineCore } from '../engine/core';")).toBe(true);
    expect(CONCRETE.test("import { x } from '../engine/core';")).toBe(true);
    expect(CONCRETE.test("import type { EnginePort } from '../engine/port';")).toBe(false);
    expect(STATE_ID_COMPARE.test("if (s.link?.value === 'deviceLink.closed')")).toBe(true);
    expect(STATE_ID_COMPARE.test("'userStatus.online' !== v")).toBe(true);
    expect(STATE_ID_COMPARE.test('const link = `deviceLink.${state}`;')).toBe(false);
  });
});
