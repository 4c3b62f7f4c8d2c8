// Not a test: what journal compaction (issue 9) costs and saves. SqliteStore with and without
// `journalRetention`: the database size after many changes, the per-change cost (one transaction = one status
// put + one journal append, what a setSelfStatus costs the store), and the time of one compaction pass; and
// the in-memory ring's replay start (a snapshot each window's worth of entries).
// Run: npx tsx bench/store/compaction.ts   (BENCH_USERS=100000 BENCH_WRITES=300000 BENCH_KEEP=50000 BENCH_FRIENDS=0 by default)
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { TYPES } from '../../machines/spec';
import { createEngine } from '../../src/index';
import { MemoryStore } from '../../src/store/memory';
import { takeSnapshot } from '../../src/store/snapshot';
import { SqliteStore } from '../../src/store/sqlite';
import type { CompactionReport } from '../../src/store/retention';
import type { Store } from '../../src/store/types';
import { statusRecord, transitionEntry } from '../../test/store/contract';
import { tempDir } from '../../test/store/tmp';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const WRITES = Number(process.env.BENCH_WRITES ?? 300_000);
const KEEP = Number(process.env.BENCH_KEEP ?? 50_000);
/** Friends per user (rows the start copies besides the users and their records). */
const FRIENDS = Number(process.env.BENCH_FRIENDS ?? 0);

const ids = Array.from({ length: USERS }, (_, i) => `user-${i}`);

/** A store with an engine's settings and USERS users who each have a status record. */
async function fill(store: Store): Promise<void> {
  const engine = createEngine({ store });
  await engine.registerUsers(ids.slice(0, 100_000));
  for (let i = 100_000; i < USERS; i += 100_000) await engine.registerUsers(ids.slice(i, i + 100_000));
  await engine.close();
  if (FRIENDS > 0) store.transaction(() => ids.forEach((id, i) => store.addFriends(id, Array.from({ length: FRIENDS }, (_, k) => ids[(i + 1 + k * 7) % USERS]!))));
  let seq = store.lastSeq();
  store.transaction(() => {
    for (const id of ids) store.putStatus(id, statusRecord(TYPES.USER_STATUS_ONLINE, 'hello', ++seq, ['dev-1']));
  });
}

/** The slowest changes seen by writes() (a retention pass's steps run inside the change that triggers them). */
const slowest: number[] = [];

/** `count` changes (WRITES by default); returns the changes per second. */
function writes(store: Store, count = WRITES, from = 0, after?: () => void): number {
  let seq = store.lastSeq();
  const start = performance.now();
  for (let n = from; n < from + count; n++) {
    const id = ids[n % USERS] as string;
    const t0 = performance.now();
    store.transaction(() => {
      store.append(transitionEntry(++seq, id));
      store.putStatus(id, statusRecord(TYPES.USER_STATUS_ONLINE, `status ${n}`, seq, ['dev-1']));
    });
    const ms = performance.now() - t0;
    if (slowest.length < 5 || ms > slowest[slowest.length - 1]!) {
      slowest.push(ms);
      slowest.sort((a, b) => b - a).splice(5);
    }
    after?.();
  }
  return count / ((performance.now() - start) / 1000);
}

const size = (file: string) => [file, `${file}-wal`].reduce((s, f) => s + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

const tmp = tempDir('status-engine-bench-');
try {
  const sqlite = process.env.BENCH_ONLY !== 'memory';
  console.log(`${fmt(USERS)} users, ${fmt(WRITES)} changes, retention maxEntries ${fmt(KEEP)} (default slack: maxEntries)`);
  const rows: string[][] = [];
  for (const retention of sqlite ? [false, true] : []) {
    const file = tmp.file(`${retention}.db`);
    const store = new SqliteStore(file, retention ? { journalRetention: { maxEntries: KEEP } } : {});
    await fill(store);
    // Passes run in steps after the writes (src/store/retention.ts): each one's report, once it is done.
    const reports: CompactionReport[] = [];
    const seen = () => {
      const r = store.lastCompaction;
      if (r && 'steps' in r && r !== reports.at(-1)) reports.push(r);
    };
    // In four parts, the file's size after each: without retention it grows with every change.
    const sizes: string[] = [];
    let ms = 0;
    for (let part = 0; part < 4; part++) {
      const t0 = performance.now();
      writes(store, WRITES / 4, (part * WRITES) / 4, seen);
      ms += performance.now() - t0;
      sizes.push(mb(fs.statSync(file).size));
    }
    store.close();
    const rate = WRITES / (ms / 1000);
    const n = reports.length;
    console.log(`${retention ? 'with retention' : 'whole journal'}: the slowest changes ${slowest.map((x) => `${x.toFixed(1)} ms`).join(', ')}`);
    slowest.length = 0;
    const sum = (f: (r: CompactionReport) => number) => reports.reduce((t, r) => t + f(r), 0);
    rows.push([
      retention ? `journalRetention ${fmt(KEEP)}` : 'whole journal', `${fmt(rate)}/s`, `${(1e6 / rate).toFixed(0)} us`, sizes.join(' '), `+wal ${mb(size(file) - fs.statSync(file).size)}`,
      String(n), n ? `${(sum((r) => r.ms) / n).toFixed(0)} ms` : '-', n ? (sum((r) => r.steps) / n).toFixed(0) : '-', n ? `${Math.max(...reports.map((r) => r.longestStepMs)).toFixed(1)} ms` : '-',
    ]);
  }
  if (sqlite) console.log(['SqliteStore', 'changes', 'per change', 'db after each quarter', 'wal', 'passes', 'ms/pass', 'steps/pass', 'longest step'].map((h, i) => (i === 0 ? h.padEnd(28) : i === 3 ? h.padStart(36) : h.padStart(12))).join(''));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(28) : i === 3 ? c.padStart(36) : c.padStart(12))).join(''));

  // One pass on its own, the state as above (the copy of every table into the replay start dominates).
  if (sqlite) {
    const file = tmp.file('one.db');
    const store = new SqliteStore(file, { journalRetention: { maxEntries: KEEP, slackEntries: 1e9 } });
    await fill(store);
    writes(store);
    const t = [0, 1, 2].map(() => store.compact().ms);
    console.log(`one compaction pass, ${fmt(USERS)} users: ${t.map((x) => `${x.toFixed(0)} ms`).join(', ')}; db + wal ${mb(size(file))}`);
    store.close();
  }

  // In memory: the ring takes a snapshot once its window passes the replay start (every KEEP entries).
  const mem = new MemoryStore({ journalMaxEntries: KEEP });
  await fill(mem);
  const s0 = performance.now();
  (mem as unknown as { keepStartAhead(seq: number): void }).keepStartAhead(Number.MAX_SAFE_INTEGER); // what a window's pass takes
  const snapMs = performance.now() - s0;
  const r0 = performance.now();
  mem.replayStart(); // made into a snapshot when read
  const readMs = performance.now() - r0;
  const full0 = performance.now();
  takeSnapshot(mem, mem.lastSeq(), 0);
  const fullMs = performance.now() - full0;
  const memRate = writes(mem);
  const bare = new MemoryStore({ journalMaxEntries: KEEP });
  await fill(bare);
  (bare as unknown as { log: { beforeDrop: null } }).log.beforeDrop = null; // the ring as before compaction
  const bareRate = writes(bare);
  const none = new MemoryStore({ journalMaxEntries: 0 });
  await fill(none);
  const noneRate = writes(none);
  console.log(`MemoryStore ring of ${fmt(KEEP)}: capturing its replay start ${snapMs.toFixed(0)} ms (read as a snapshot: ${readMs.toFixed(0)} ms; engine.snapshot(): ${fullMs.toFixed(0)} ms)`);
  console.log(`  changes: ${fmt(memRate)}/s with the ring and its replay starts, ${fmt(bareRate)}/s with the ring and none, ${fmt(noneRate)}/s with no journal`);
} finally {
  tmp.remove();
}
