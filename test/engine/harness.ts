// A small world for engine tests: an engine on a SimulatedClock, and devices that record what they hear.
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, type EngineOptions, type Platform } from '../../src/index';
import { record, type Device } from '../behaviour/target';

export type { Device };

export async function world(options: EngineOptions & { users?: string[] } = {}) {
  const clock = new SimulatedClock();
  const { users = ['alice', 'bob', 'carol', 'dave'], ...rest } = options;
  const engine = createEngine({ clock, switches: { userStatus: true }, ...rest });
  await engine.registerUsers(users);

  const device = (userID: string, platform: Platform = 'web'): Device => record(createClient({ engine, platform }), userID);

  /** A device of `userID`, logged in, with its own login notification already cleared. */
  const online = async (userID: string, platform: Platform = 'web'): Promise<Device> => {
    const d = device(userID, platform);
    await d.client.login({ userID });
    d.clear();
    return d;
  };

  const status = async (userID: string) => (await engine.queryStatus([userID]))[0]!;

  return { engine, clock, device, online, status };
}

/** Rejects with a StatusError? Returns it, so tests can look at code, message and details. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; message: string } & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as { code: number; message: string };
  }
  throw new Error('expected the call to reject, it resolved');
}
