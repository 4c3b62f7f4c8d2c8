// Not a test: acknowledged writes per second on SqliteStore (one transaction = one status put + one journal
// append, what a setSelfStatus costs the store), for synchronous NORMAL and FULL, against MemoryStore in the
// same run; and reads, which must stay as fast as MemoryStore's. Run: npx tsx bench/store/writes.ts
import { performance } from 'node:perf_hooks';
import { TYPES } from '../../machines/spec';
import { MemoryStore } from '../../src/store/memory';
import { SqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { statusRecord, transitionEntry } from '../../test/store/contract';
import { tempDir } from '../../test/store/tmp';

const USERS = 10_000;
const seconds = Number(process.env.BENCH_SECONDS ?? 1);

function writes(store: Store): number {
  const ids = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  store.addUsers(ids);
  let seq = store.lastSeq();
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < 20; k++, n++) {
      const id = ids[n % USERS] as string;
      store.transaction(() => {
        store.append(transitionEntry(++seq, id));
        store.putStatus(id, statusRecord(TYPES.USER_STATUS_ONLINE, `status ${n}`, seq, ['dev-1']));
      });
    }
  }
  return n / ((performance.now() - start) / 1000);
}

function reads(store: Store): number {
  const ids = [...store.userIDs()];
  let n = 0;
  let hits = 0;
  const start = performance.now();
  while (performance.now() - start < 300) {
    for (let k = 0; k < 10_000; k++, n++) if (store.getStatus(ids[n % ids.length] as string)) hits++;
  }
  if (hits === 0) throw new Error('no reads hit');
  return n / ((performance.now() - start) / 1000);
}

const tmp = tempDir('status-engine-bench-');
try {
  const memory = new MemoryStore();
  const rows: Array<[string, number, number]> = [];
  const memWrites = writes(memory);
  const memReads = reads(memory);
  rows.push(['MemoryStore', memWrites, memReads]);
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    const store = new SqliteStore(tmp.file(`${synchronous}.db`), { synchronous });
    rows.push([`SqliteStore ${synchronous}`, writes(store), reads(store)]);
    store.close();
  }
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(12);
  console.log(`${'store'.padEnd(20)} ${'writes/s'.padStart(12)} ${'vs memory'.padStart(10)} ${'reads/s'.padStart(12)} ${'vs memory'.padStart(10)}`);
  for (const [name, w, r] of rows) {
    console.log(`${name.padEnd(20)} ${fmt(w)} ${(w / memWrites).toFixed(4).padStart(10)} ${fmt(r)} ${(r / memReads).toFixed(2).padStart(10)}`);
  }
} finally {
  tmp.remove();
}
