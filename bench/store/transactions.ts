// Not a test: what MemoryStore's undo log costs. Against a baseline measured in the same run (the same store
// with `transaction` a plain call, so nothing is logged: the store as it was before rollback), it times
// (1) transactions of one putStatus + one journal append, the store's share of a setSelfStatus, and
// (2) whole setSelfStatus commands through the engine. Rounds alternate, so load from other processes hits
// both sides alike; the figure is the median of the per-round differences.
// Run: npx tsx bench/store/transactions.ts [transactions, default 1000000]
import { performance } from 'node:perf_hooks';
import { TYPES } from '../../machines/spec';
import { coreOf, createEngine } from '../../src/engine/engine';
import { MemoryStore } from '../../src/store/memory';
import { statusRecord } from '../../test/store/contract';

/** The store without rollback: writes see no open transaction, so they log nothing. */
class NoRollback extends MemoryStore {
  override transaction<T>(fn: () => T): T {
    return fn();
  }
}

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 20;
const PER_ROUND = Math.ceil(TOTAL / ROUNDS);
const USERS = 1000;
const ids = Array.from({ length: USERS }, (_, i) => `user-${i}`);
const records = ids.map((_, i) => statusRecord(TYPES.USER_STATUS_ONLINE, `s${i}`, i, ['d1']));

type Side = { name: string; store: MemoryStore };
const sides: Side[] = [
  { name: 'no rollback (before)', store: new NoRollback() },
  { name: 'undo log (after)', store: new MemoryStore() },
];
for (const s of sides) s.store.addUsers(ids);

function storeRound(store: MemoryStore): number {
  let seq = store.lastSeq();
  const t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const k = i % USERS;
    store.transaction(() => {
      store.putStatus(ids[k] as string, records[k]!);
      store.append({ seq: ++seq, at: i, kind: 'command', by: ids[k] as string, command: { type: 'status.set', userID: ids[k] as string, customStatus: 'x' } });
    });
  }
  return ((performance.now() - t0) * 1e6) / PER_ROUND;
}

function engineSide(store: MemoryStore) {
  const core = coreOf(createEngine({ store, switches: { userStatus: true } }));
  core.registerUsers(ids);
  const sessions = ids.map((id) => {
    const s = core.openSession('web', () => {});
    core.login(s, id);
    return s;
  });
  let n = 0;
  return () => {
    const count = Math.ceil(PER_ROUND / 10);
    const t0 = performance.now();
    for (let i = 0; i < count; i++, n++) core.setSelfStatus(sessions[n % USERS]!, { customStatus: `c${n & 7}` });
    return ((performance.now() - t0) * 1e6) / count;
  };
}

function compare(title: string, run: (side: number) => number): void {
  const times: number[][] = [[], []];
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (let side = 0; side < 2; side++) {
      const ns = run(side);
      if (r >= 2) times[side]!.push(ns); // the first rounds warm up the JIT
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const diffs = times[1]!.map((t, i) => t - times[0]![i]!);
  console.log(title);
  for (let side = 0; side < 2; side++) {
    console.log(`  ${sides[side]!.name.padEnd(22)} ${median(times[side]!).toFixed(1).padStart(8)} ns  (min ${Math.min(...times[side]!).toFixed(1)})`);
  }
  console.log(`  ${'cost of the log'.padEnd(22)} ${median(diffs).toFixed(1).padStart(8)} ns  (median of per-round differences)`);
}

compare(`store: ${PER_ROUND * ROUNDS} transactions of putStatus + append, ns per transaction`, (side) => storeRound(sides[side]!.store));
const engines = [engineSide(new NoRollback()), engineSide(new MemoryStore())];
compare(`engine: ${Math.ceil(PER_ROUND / 10) * ROUNDS} setSelfStatus commands, ns per command`, (side) => engines[side]!());
