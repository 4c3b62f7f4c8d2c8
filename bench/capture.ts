// A development tool, not a part of `npm run bench`: how long the in-memory store's replay-start capture takes
// (MemoryStore.keepStartAhead, run once per journal window: every 100,000 entries by default), in one turn,
// at N users online, each with 20 friends and 20 subscriptions, and each part of it alone.
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
// The store's own fields, as the capture reads them (a tool may look inside).
const st = mem as unknown as {
  keepStartAhead(seq: number): void;
  start: unknown;
  users: Set<string>;
  status: Map<string, unknown>;
  subs: Map<string, unknown>;
  friends: Map<string, Set<string>>;
  notices: Map<string, unknown>;
  pending: Map<string, unknown>;
  engineMemory: (() => unknown) | null;
};
const ms = (f: () => unknown): string => {
  const t = performance.now();
  f();
  return (performance.now() - t).toFixed(1);
};
for (let r = 0; r < 3; r++) {
  const whole = ms(() => st.keepStartAhead(Number.MAX_SAFE_INTEGER - r));
  st.start = undefined;
  const parts = {
    users: ms(() => [...st.users]),
    status: ms(() => new Map(st.status)),
    subscriptions: ms(() => new Map(st.subs)),
    friends: ms(() => new Map(st.friends)),
    notices: ms(() => new Map(st.notices)),
    timers: ms(() => [...st.pending.values()]),
    engine: ms(() => st.engineMemory?.()),
  };
  process.stdout.write(`${n} online: capture ${whole} ms; ${Object.entries(parts).map(([k, v]) => `${k} ${v}`).join(', ')} ms\n`);
}
await engine.close();
