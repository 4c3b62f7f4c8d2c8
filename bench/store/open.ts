// Not a test: how long SqliteStore takes to open (load everything into memory) as the user count grows.
// Run: node --expose-gc --import tsx bench/store/open.ts [users]   (the heap figure needs --expose-gc)
import { performance } from 'node:perf_hooks';
import { TYPES } from '../../machines/spec';
import { SqliteStore } from '../../src/store/sqlite';
import { statusRecord, subsRecord } from '../../test/store/contract';
import { tempDir } from '../../test/store/tmp';

const users = Number(process.argv[2] ?? 200_000);
const tmp = tempDir('status-engine-bench-');
try {
  const file = tmp.file();
  const ids = Array.from({ length: users }, (_, i) => `user-${i}`);
  let t = performance.now();
  const store = new SqliteStore(file);
  store.transaction(() => {
    for (let i = 0; i < ids.length; i += 100_000) store.addUsers(ids.slice(i, i + 100_000));
    // Half of them logged in once, with two friends and five subscriptions each.
    for (let i = 0; i < users; i += 2) {
      const id = ids[i] as string;
      store.putStatus(id, statusRecord(TYPES.USER_STATUS_ONLINE, 'hello', i, ['dev-1']));
      store.addFriends(id, [ids[(i + 1) % users] as string, ids[(i + 7) % users] as string]);
      const list = [1, 3, 5, 9, 11].map((d) => ids[(i + d) % users] as string);
      store.putSubscriptions(id, subsRecord(list), { added: list, removed: [] });
    }
  });
  store.close();
  const written = performance.now() - t;
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  t = performance.now();
  const again = new SqliteStore(file);
  const opened = performance.now() - t;
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  console.log(`${users.toLocaleString('en-US')} users: written in ${Math.round(written)} ms, opened (loaded) in ${Math.round(opened)} ms, heap +${Math.round((heap1 - heap0) / 1e6)} MB`);
  again.close();
} finally {
  tmp.remove();
}
