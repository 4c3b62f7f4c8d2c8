// The hub's frame reading (src/server/hub/frames.ts): its quick path for plain requests reads every frame
// exactly as the schema path does (requestSchema, then the op table), whatever the keys and values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFrame } from '../../src/server/hub/frames';
import { OPS, requestSchema } from '../../src/protocol/messages';

/** What the frame reads as by the schema alone: the reading before the quick path existed. */
function bySchema(raw: unknown): { ok: boolean; id?: number | null; op?: string; params?: unknown } {
  const p = requestSchema.safeParse(raw);
  if (!p.success) return { ok: false };
  if (!(OPS as readonly string[]).includes(p.data.op)) return { ok: false, id: p.data.id };
  return { ok: true, id: p.data.id, op: p.data.op, params: p.data.params };
}

const key = fc.constantFrom('id', 'op', 'params', 'extra', '__proto__');
const value = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300, -0),
  fc.constantFrom('ping', 'login', 'nope', '', 'x'.repeat(64), 'x'.repeat(65)),
  fc.constant(null),
  fc.boolean(),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('readFrame', () => {
  it('reads a frame as the schema does (ok, id, op, params), on the quick path or not', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), (obj) => {
        const text = JSON.stringify(obj);
        const raw = JSON.parse(text) as unknown;
        const got = readFrame(Buffer.from(text), false, 1 << 20);
        const want = bySchema(raw);
        expect(got.ok).toBe(want.ok);
        if (got.ok) expect({ id: got.id, op: got.op, params: got.params }).toEqual({ id: want.id, op: want.op, params: want.params });
        else if (want.id !== undefined) expect(got.id).toBe(want.id);
      }),
      { numRuns: 2000 },
    );
  });

  it('a plain ping is read without the schema and is what it says', () => {
    expect(readFrame(Buffer.from('{"id":7,"op":"ping"}'), false, 1 << 20)).toEqual({ ok: true, id: 7, op: 'ping', params: undefined });
    expect(readFrame(Buffer.from('{"id":7,"op":"pong"}'), false, 1 << 20)).toMatchObject({ ok: false, id: 7, error: { param: 'op' } });
  });
});
