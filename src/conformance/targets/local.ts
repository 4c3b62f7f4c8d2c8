// The in-process target: an engine made by createEngine on a SimulatedClock, its clients in-process. Every
// capability is there; a drop is the device's own disconnect and reconnect (there is no socket).
import { SimulatedClock } from 'xstate';
import { createClient } from '../../client/index';
import { createEngine } from '../../engine/engine';
import type { EngineOptions } from '../../types';
import { engineAdmin, type Target } from '../target';
import { DEFAULT_SETTINGS } from './settings';

export async function localTarget(options: Omit<EngineOptions, 'clock'> = {}): Promise<Target> {
  const clock = new SimulatedClock();
  const engine = createEngine({ switches: { userStatus: true }, ...options, clock });
  let n = 0;
  return {
    name: 'local',
    admin: engineAdmin(engine),
    client: (platform) => createClient({ engine, platform }),
    userSig: () => '',
    advance: async (ms) => clock.increment(ms),
    settle: async () => {},
    linkSlackMs: 0,
    dropConnections: async (_userID, clients) => {
      for (const c of clients) c.disconnect('link_closed');
      for (const c of clients) await c.reconnect();
    },
    prefix: () => `t${++n}_`,
    reset: () => engine.configure(DEFAULT_SETTINGS),
    close: () => engine.close(),
  };
}
