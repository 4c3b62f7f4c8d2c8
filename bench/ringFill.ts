// A development tool, not a part of `npm run bench`: the in-memory journal ring filling to its default bound
// and going on (300,000 command entries, trimmed to 100,000 as the store does), timing every push: the worst
// push and the pushes over 1 ms, with the entry count where each happened (a growth step shows there).
// `node --import tsx bench/ringFill.ts`
import type { Command } from '../src/records';
import { DEFAULT_JOURNAL_ENTRIES, JournalRing } from '../src/store/journalRing';

const command = { type: 'setSelfStatus', customStatus: 'x' } as unknown as Command;
for (let round = 0; round < 2; round++) {
  const ring = new JournalRing();
  const by = Array.from({ length: 100 }, (_, i) => 'u' + i);
  let worst = 0;
  const slow: string[] = [];
  for (let n = 0; n < 300_000; n++) {
    const t = process.hrtime.bigint();
    ring.pushCommand(n + 1, n, by[n % 100]!, command);
    if (ring.size > DEFAULT_JOURNAL_ENTRIES) ring.trim(DEFAULT_JOURNAL_ENTRIES);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (ms > worst) worst = ms;
    if (ms > 1) slow.push(`${n}: ${ms.toFixed(1)} ms`);
  }
  process.stdout.write(`round ${round}: worst push ${worst.toFixed(2)} ms; over 1 ms: ${slow.join(', ') || 'none'}\n`);
}
