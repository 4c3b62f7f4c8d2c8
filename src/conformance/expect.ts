// The few assertions the suite uses, so that it runs without a test framework installed (vitest is only
// our own dev dependency). Their meaning follows vitest's: toEqual ignores undefined properties,
// toMatchObject checks the named properties recursively (arrays element by element, same length).
import { inspect } from 'node:util';

export class AssertionError extends Error {
  override name = 'AssertionError';
}

const show = (v: unknown) => inspect(v, { depth: 6, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 120 });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
}

function matches(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(actual[i], e));
  }
  if (isObject(expected)) {
    return isObject(actual) && Object.keys(expected).every((k) => matches(actual[k], expected[k]));
  }
  return Object.is(actual, expected);
}

export interface Expectation {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: unknown): void;
  toContain(part: string): void;
  toHaveLength(n: number): void;
}

export function expect(actual: unknown): Expectation {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new AssertionError(`expected ${show(actual)} ${what}`);
  };
  return {
    toBe: (e) => check(Object.is(actual, e), `to be ${show(e)}`),
    toEqual: (e) => check(equal(actual, e), `to equal ${show(e)}`),
    toMatchObject: (e) => check(matches(actual, e), `to match ${show(e)}`),
    toContain: (part) => check(typeof actual === 'string' && actual.includes(part), `to contain ${show(part)}`),
    toHaveLength: (n) => check((Array.isArray(actual) || typeof actual === 'string') && actual.length === n, `to have length ${n}`),
  };
}

/** Rejects? Returns the error, so that tests can look at code, message and details. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; message: string } & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as { code: number; message: string };
  }
  throw new AssertionError('expected the call to reject, it resolved');
}
