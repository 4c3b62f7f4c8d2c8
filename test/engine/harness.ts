// A small world for engine tests: an engine on a SimulatedClock, and devices that record what they hear.
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, EVENT, type Client, type ClientEvent, type EngineOptions, type Platform, type UserStatus } from '../../src/index';

export interface Device {
  client: Client;
  userID: string;
  /** Every USER_STATUS_UPDATED entry it heard, in order. */
  heard: UserStatus[];
  events: ClientEvent[];
  /** What it heard about one user, as [statusType, customStatus] pairs. */
  about(userID: string): Array<[number, string]>;
  clear(): void;
}

export async function world(options: EngineOptions & { users?: string[] } = {}) {
  const clock = new SimulatedClock();
  const { users = ['alice', 'bob', 'carol', 'dave'], ...rest } = options;
  const engine = createEngine({ clock, switches: { userStatus: true }, ...rest });
  await engine.registerUsers(users);

  const device = (userID: string, platform: Platform = 'web'): Device => {
    const client = createClient({ engine, platform });
    const d: Device = {
      client,
      userID,
      heard: [],
      events: [],
      about: (id) => d.heard.filter((s) => s.userID === id).map((s) => [s.statusType, s.customStatus]),
      clear: () => {
        d.heard.length = 0;
        d.events.length = 0;
      },
    };
    for (const name of Object.values(EVENT)) {
      client.on(name, (e) => {
        d.events.push(e);
        if (e.name === EVENT.USER_STATUS_UPDATED) d.heard.push(...e.data);
      });
    }
    return d;
  };

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
