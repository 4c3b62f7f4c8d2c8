// The model-based property (issue 3.1): random command sequences run on the engine and on the reference
// model of test/model/, compared after every command.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commands, prelude } from '../model/arbitraries';
import { ConfigureCommand } from '../model/commands/configure';
import { LoginCommand } from '../model/commands/login';
import { Target } from '../model/commands/target';
import { checkWorld, ModelMismatch } from '../model/check';
import { report } from '../model/coverage';
import { CLIENT_PLATFORMS, CLIENTS } from '../model/config';
import { Model } from '../model/model';
import { createReal } from '../model/real';
import { shardOf } from '../behaviour/sharded';
import type { MachineOverrides } from '../../src/index';
import type { Rules } from '../../src/engine/rules/index';
import type { InternalMachines } from '../../src/engine/runners';
import { runParams } from './params';
import { BROKEN, REBUILT } from './variants';

export const modelProperty = (machines?: MachineOverrides, maxCommands = 60, rules?: Partial<Rules>, internal?: InternalMachines, shards = 1) =>
  fc.asyncProperty(prelude, fc.constantFrom(0, 0, 1500), fc.commands(commands, { maxCommands, size: 'max' }), async (first, grace, cmds) => {
    const real = await createReal(machines, rules, internal, shards);
    const model = new Model(CLIENT_PLATFORMS, shards > 1 ? (device, userID) => `device ${device} on shard ${shardOf(userID, shards)}` : undefined, shards > 1);
    await checkWorld(model, real);
    // EXT-7: a third of the runs damp flaps from the start (others change the grace at run time too).
    if (grace > 0) await new ConfigureCommand({ limits: { flapGraceMs: grace } }).run(model, real);
    for (const i of first) await new LoginCommand(new Target(i, false), CLIENTS[i]!.home).run(model, real);
    await fc.asyncModelRun(() => ({ model, real }), cmds);
  });

describe('model-based: the engine agrees with the reference model after every command', () => {
  it('ST-4 ST-5 ST-6 ST-8 DEV-1 DEV-2 DEV-3 DEV-4 CS-1 CS-3 CS-5 CS-7 GET-1 GET-5 SUB-1 SUB-8 UNSUB-1 UNSUB-5 NTF-2 NTF-5 NTF-6 GATE-1 LIM-1 EXT-2 EXT-4 EXT-5 EXT-7 random sequences over 5 users and 12 devices', async () => {
    await fc.assert(modelProperty(), runParams('model', 150));
    if (process.env.MODEL_STATS) console.log(report());
  }, 120_000);
});

describe('model-based: engines side by side agree with the same model (issue 10 item 5)', () => {
  it('NTF-2 NTF-6 SUB-1 UNSUB-5 EXT-2 EXT-5 EXT-7 random sequences over 5 users split between two engines on one broker', async () => {
    await fc.assert(modelProperty(undefined, 60, undefined, undefined, 2), runParams('model on two engines', 60));
  }, 120_000);
});

describe('model-based: the property catches deliberately broken engines', () => {
  it('control: machines rebuilt from their definitions, unchanged, pass the property', async () => {
    await fc.assert(modelProperty(REBUILT), runParams('model on rebuilt machines', 60));
  }, 60_000);

  for (const [name, { clause, machines, rules, internal }] of Object.entries(BROKEN)) {
    it(`${clause} catches a broken engine: ${name}`, async () => {
      const params = runParams<unknown>(`broken: ${name}`, 2000);
      const out = await fc.check(modelProperty(machines, 60, rules, internal), { ...params, endOnFailure: true });
      expect(out.failed, `the property did not catch "${name}" in ${out.numRuns} runs`).toBe(true);
      expect(out.errorInstance).toBeInstanceOf(ModelMismatch);
      console.log(`  caught "${name}" after ${out.numRuns} runs: ${(out.errorInstance as Error).message.split('\n')[0]}`);
    }, 60_000);
  }
});
