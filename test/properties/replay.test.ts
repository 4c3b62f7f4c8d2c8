// EXT-3 replay as a property: after a random command sequence (the model-based test's commands, with
// all of its checks), an engine rebuilt from the journal holds exactly the same state, timers included,
// and stays the same as time runs on and every pending timer fires.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { replay } from '../../src/index';
import { commands, prelude } from '../model/arbitraries';
import { LoginCommand } from '../model/commands/login';
import { Target } from '../model/commands/target';
import { CLIENT_PLATFORMS, CLIENTS } from '../model/config';
import { Model } from '../model/model';
import { createReal } from '../model/real';
import { runParams } from './params';

describe('EXT-3 replay', () => {
  it('EXT-3 replaying the journal of a random run rebuilds exactly the same state, and it stays the same as timers fire', async () => {
    await fc.assert(
      fc.asyncProperty(prelude, fc.commands(commands, { maxCommands: 50, size: 'max' }), async (first, cmds) => {
        const real = await createReal();
        const model = new Model(CLIENT_PLATFORMS);
        for (const i of first) await new LoginCommand(new Target(i, false), CLIENTS[i]!.home).run(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);

        const clock = new SimulatedClock();
        clock.set(real.clock.now());
        const again = await replay(await real.engine.journal(), { clock });
        expect(await again.exportState()).toEqual(await real.engine.exportState());

        // The pending timers were armed again on the new clock: they fire at the same instants.
        for (const ms of [1000, 2000, 5000]) {
          real.clock.increment(ms);
          clock.increment(ms);
          expect(await again.exportState()).toEqual(await real.engine.exportState());
        }
        await again.close();
      }),
      runParams('replay', 100),
    );
  }, 120_000);
});
