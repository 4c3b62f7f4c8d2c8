// EXT-3 with compaction (issue 9) as a property: for the journal of a random run (the model-based test's
// commands), a replay from a snapshot taken at a random command boundary plus the entries after it ends in
// exactly the state a full replay gives: the same exportState, the same snapshot (rate windows and links
// included), the same as time runs on and every pending timer fires, and the same answers to new calls.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, replay, type Engine, type JournalEntry } from '../../src/index';
import { commands, prelude } from '../model/arbitraries';
import { LoginCommand } from '../model/commands/login';
import { Target } from '../model/commands/target';
import { CLIENT_PLATFORMS, CLIENTS, USERS } from '../model/config';
import { Model } from '../model/model';
import { createReal } from '../model/real';
import { runParams } from './params';

/** What a few new calls on `engine` answer (results or error codes), made at the clock's current time. */
async function probe(engine: Engine): Promise<unknown[]> {
  const out: unknown[] = [];
  const settle = async (p: Promise<unknown>) => p.then((r) => ({ ok: r }), (e: { code?: number }) => ({ code: e.code }));
  for (const [i, user] of [USERS[0], USERS[1], USERS[4]].entries()) {
    const c = createClient({ engine, platform: i === 2 ? 'ios' : 'web' });
    out.push(await settle(c.login({ userID: user })));
    for (let k = 0; k < 3; k++) out.push(await settle(c.getUserStatus({ userIDList: [...USERS] })));
    out.push(await settle(c.subscribeUserStatus({ userIDList: [USERS[2], USERS[3]] })));
    out.push(await settle(c.setSelfStatus({ customStatus: `p${i}` })));
  }
  out.push(await engine.exportState());
  // Device ids are random per client: name them by order of appearance.
  const ids = new Map<string, string>();
  return JSON.parse(JSON.stringify(out).replace(/dev-[0-9a-f-]{36}/g, (id) => ids.get(id) ?? (ids.set(id, `dev-${ids.size}`), `dev-${ids.size - 1}`)));
}

describe('EXT-3 replay from a snapshot', () => {
  it('EXT-3 a snapshot at a random command boundary plus the entries after it replays to exactly the full replay', async () => {
    await fc.assert(
      fc.asyncProperty(prelude, fc.commands(commands, { maxCommands: 50, size: 'max' }), fc.double({ min: 0, max: 1, noNaN: true }), async (first, cmds, where) => {
        const real = await createReal();
        const model = new Model(CLIENT_PLATFORMS);
        for (const i of first) await new LoginCommand(new Target(i, false), CLIENTS[i]!.home).run(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        const journal = await real.engine.journal();
        expect(journal[0]?.seq).toBe(1); // the default window holds this whole run

        // A command boundary: the state after every entry before some command (0: before the first).
        const boundaries = [0, ...journal.filter((e) => e.kind === 'command').map((e) => e.seq - 1)];
        const n = boundaries[Math.min(boundaries.length - 1, Math.floor(where * boundaries.length))]!;
        const prefix = journal.filter((e) => e.seq <= n);
        const at = real.clock.now();
        const clocks = [0, 1, 2].map(() => {
          const c = new SimulatedClock();
          c.set(at);
          return c;
        });
        const upTo = await replay(prefix, { clock: clocks[0] });
        // The snapshot crosses a process boundary as JSON.
        const snapshot = JSON.parse(JSON.stringify(await upTo.snapshot()));
        expect(snapshot.seq).toBe(n);
        await upTo.close();

        const tail: JournalEntry[] = journal.filter((e) => e.seq > n);
        const fromSnapshot = await replay(tail, { clock: clocks[1], snapshot });
        const full = await replay(journal, { clock: clocks[2] });
        expect(await fromSnapshot.exportState()).toEqual(await full.exportState());
        expect(await fromSnapshot.snapshot()).toEqual(await full.snapshot());
        expect(await fromSnapshot.journal()).toEqual(await full.journal({ fromSeq: n + 1 }));

        for (const ms of [1000, 2000, 5000, 400_000]) {
          clocks[1]!.increment(ms);
          clocks[2]!.increment(ms);
          expect(await fromSnapshot.snapshot()).toEqual(await full.snapshot());
        }
        expect(await probe(fromSnapshot)).toEqual(await probe(full));
        await fromSnapshot.close();
        await full.close();
      }),
      runParams('replay-snapshot', 60),
    );
  }, 180_000);
});
