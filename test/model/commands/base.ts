// What every command of the model-based tests shares: the fast-check command type, running a call on both
// sides, and the checks that follow every command.
import type fc from 'fast-check';
import { checkAll, checkOutcome } from '../check';
import { reach } from '../coverage';
import type { Model, Outcome } from '../model';
import { settle, type Real } from '../real';

export type ModelCommand = fc.AsyncCommand<Model, Real>;

/** Runs the model's side and the engine's side of one call, compares the outcomes, then the whole world. */
export async function both(model: Model, real: Real, what: string, expected: Outcome, call: () => Promise<unknown> | unknown): Promise<void> {
  const actual = await settle(call);
  reach(`${what.replace(/\(.*$/, '')} -> ${'code' in expected ? expected.code : 'ok'}`);
  checkOutcome(what, expected, actual);
  await checkAll(model, real);
}

/** Client calls resolve to `{data}`. */
export const data = async (p: Promise<{ data: unknown }>): Promise<unknown> => (await p).data;
