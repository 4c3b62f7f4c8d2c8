// fast-check run parameters for every property of the suite: the seed is printed before each run so that a
// failure can be replayed (FC_SEED=<seed>, plus FC_PATH=<path> from fast-check's report to jump straight to
// the counterexample), and FC_RUNS scales the number of runs.
import type fc from 'fast-check';

export function runParams<T>(name: string, defaultRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const numRuns = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : defaultRuns;
  const path = process.env.FC_PATH;
  console.log(`[fast-check] ${name}: seed=${seed} numRuns=${numRuns}${path ? ` path=${path}` : ''} (replay with FC_SEED=${seed})`);
  return { seed, numRuns, ...(path ? { path } : {}) };
}
