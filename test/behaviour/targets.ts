// The two targets of the behavioural suite: an engine in this process (SimulatedClock), and the real
// server process (`serve --clock simulated`) driven over REST and the client protocol.
import { SimulatedClock } from 'xstate';
import { RemoteClient } from '../../src/client/remote';
import type { Client } from '../../src/client/types';
import { DEFAULT_LIMITS, EVENT, createClient, createEngine, type ConfigChange } from '../../src/index';
import { sig, startServerProcess } from '../server/proc';
import { engineAdmin, tracked, type Target } from './target';

const DEFAULT_SETTINGS: ConfigChange = {
  edition: 'ultimate',
  switches: { userStatus: true, friendStatusNotify: false },
  limits: { ...DEFAULT_LIMITS, rateLimit: { ...DEFAULT_LIMITS.rateLimit } },
};

export async function localTarget(): Promise<Target> {
  const clock = new SimulatedClock();
  const engine = createEngine({ clock, switches: { userStatus: true } });
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

const HEARTBEAT_MS = 10_000;

export async function remoteTarget(): Promise<Target> {
  const server = await startServerProcess(['--clock', 'simulated', '--store', 'memory', '--heartbeat-ms', String(HEARTBEAT_MS)]);
  // The clients' own time (heartbeat pings, backoff, request timeouts) moves in step with the server's.
  const clock = new SimulatedClock();
  const clients = new Set<RemoteClient>();
  let n = 0;
  const ok = async (command: string, body: unknown) => {
    const r = await server.rest(command, body);
    if (r.ActionStatus !== 'OK') throw new Error(`${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
    return r;
  };
  const configure = async (c: ConfigChange) => {
    const body: Record<string, unknown> = {};
    if (c.edition) body.Edition = c.edition;
    if (c.switches) {
      body.Switches = Object.fromEntries(
        Object.entries({ UserStatus: c.switches.userStatus, FriendStatusNotify: c.switches.friendStatusNotify })
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, v ? 'on' : 'off']),
      );
    }
    if (c.limits) body.Limits = c.limits;
    await ok('im_open_status/config', body);
  };
  const settle = async () => {
    await Promise.all([...clients].map((c) => c.sync()));
  };
  return {
    name: 'remote',
    admin: {
      register: async (ids) => void (await ok('im_open_login_svc/multiaccount_import', { Accounts: ids })),
      addFriends: async (u, ids) => void (await ok('sns/friend_add', { From_Account: u, AddFriendItem: ids.map((To_Account) => ({ To_Account })) })),
      removeFriends: async (u, ids) => void (await ok('sns/friend_delete', { From_Account: u, To_Account: ids })),
      configure,
      queryStatus: async (ids) =>
        ((await ok('openim/query_online_status', { To_Account: ids, IsReturnCustomStatus: 1 })).QueryResult as Array<Record<string, any>>).map((r) => ({
          userID: r.To_Account as string,
          statusType: r.StatusType as number,
          customStatus: r.CustomStatus as string,
        })),
    },
    client: (platform) => {
      return tracked(clients, new RemoteClient({ url: server.url, platform, clock, random: () => 0, reconnect: { minDelayMs: 100 } }));
    },
    userSig: (userID) => sig(userID),
    advance: async (ms) => {
      // In steps of half a heartbeat: every live client pings in each step, and the server has seen the
      // pings (their pongs are back) before its own clock moves, as it would in real time.
      let left = ms;
      while (left > 0) {
        const step = Math.min(left, HEARTBEAT_MS / 2);
        clock.increment(step);
        await settle();
        await ok('test/advance', { Ms: step });
        left -= step;
      }
      await settle();
    },
    settle,
    linkSlackMs: 2 * HEARTBEAT_MS,
    dropConnections: async (userID, list: Client[]) => {
      const back = list.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${userID} did not come back`)), 5000);
            const h = (e: { data: any }) => {
              if (e.data.state !== 'connected') return;
              clearTimeout(t);
              c.off(EVENT.NET_STATE_CHANGE, h);
              resolve();
            };
            c.on(EVENT.NET_STATE_CHANGE, h);
          }),
      );
      const r = await ok('test/drop', { To_Account: userID });
      if (r.Dropped !== list.length) throw new Error(`dropped ${r.Dropped} sockets of ${userID}, expected ${list.length}`);
      await Promise.all(back);
    },
    prefix: () => `t${++n}_`,
    reset: () => configure(DEFAULT_SETTINGS),
    close: async () => {
      await Promise.all([...clients].map((c) => c.destroy()));
      const code = await server.stop();
      if (code !== 0) throw new Error(`server exited with ${code}:\n${server.log()}`);
    },
  };
}
