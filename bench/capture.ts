// A development tool, not a part of `npm run bench`: what the in-memory store's replay start costs (taken by
// MemoryStore.keepStartAhead once per journal window: every 100,000 entries by default) at N users online, each
// with 20 friends and 20 subscriptions: taking it (in the turn that drops an entry), N changes after it, reading it.
// `node --import tsx bench/capture.ts 100000`
import { coreOf, createEngine } from '../src/engine/engine';
import { MemoryStore } from '../src/store/memory';

const n = Number(process.argv[2] ?? 10_000);
const mem = new MemoryStore();
const engine = createEngine({ store: mem, switches: { userStatus: true, friendStatusNotify: true }, limits: { rateLimit: { requests: 1e9, windowMs: 5000 } } });
const core = coreOf(engine);
const ids = Array.from({ length: n }, (_, i) => 'u' + i);
core.registerUsers(ids);
for (let i = 0; i < n; i++) mem.addFriends(ids[i]!, Array.from({ length: 20 }, (_, k) => ids[(i * 7 + k * 13 + 1) % n]!));
const sessions = ids.map(() => core.openSession('web', () => {}));
sessions.forEach((s, i) => core.login(s, ids[i]!));
for (let i = 0; i < n; i++) core.subscribe(sessions[i]!, { userIDList: Array.from({ length: 20 }, (_, k) => ids[(i * 11 + k * 17 + 3) % n]!) });
// The store's own method, as the ring calls it (a tool may look inside).
const st = mem as unknown as { keepStartAhead(seq: number): void };
const ms = (f: () => unknown): string => {
  const t = performance.now();
  f();
  return (performance.now() - t).toFixed(1);
};
let k = 0;
for (let r = 0; r < 3; r++) {
  // Taking the start (in the turn that drops the entry): copy on write, nothing copied now.
  const take = ms(() => st.keepStartAhead(Number.MAX_SAFE_INTEGER - r));
  // Changes after it: each user's first write since keeps what it replaces.
  const changes = ms(() => {
    for (let i = 0; i < n; i++) core.setSelfStatus(sessions[(i * 7) % n]!, { customStatus: `c${k++}` });
  });
  // Reading it (a replay, an admin's snapshot): the live maps read through what was kept.
  const read = ms(() => mem.replayStart());
  process.stdout.write(`${n} online: taking the start ${take} ms; ${n} changes after it ${changes} ms; reading it ${read} ms\n`);
}
await engine.close();
