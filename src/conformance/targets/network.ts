// Our client protocol over the network: remote clients (createClient({url})) against a running server,
// set up through the Tencent-style REST admin. Time control and server-side drops come from the server's
// test hooks when it offers them (POST /v4/test/advance and /v4/test/drop, as `serve --clock simulated`
// does); without them the tests that need them are skipped. Settings changed for the tests are put back
// as they were found when the target closes.
import { randomBytes } from 'node:crypto';
import { SimulatedClock } from 'xstate';
import { RemoteClient } from '../../client/remote';
import type { Client } from '../../client/types';
import { EVENT } from '../../events';
import type { Capabilities, Capability, Target } from '../target';
import { tracked } from '../target';
import { probeHooks, restAdmin, type RestAdmin, type RestOptions } from './rest';
import { DEFAULT_SETTINGS } from './settings';

export interface NetworkTargetOptions extends RestOptions {
  /** ws://HOST:PORT of the client protocol. */
  url: string;
  /** What the run's user ids begin with. Default `conformance-<random>-`. */
  prefix?: string;
  /** The server's heartbeat interval (its clients ping at half of it). Default 10,000. */
  heartbeatMs?: number;
  /** Do not change app-wide settings even where the server allows it (tests that need to are skipped). */
  noConfigure?: boolean;
}

/** What the target found out about the server, for a target of another client protocol built on it. */
export interface ServerSide {
  rest: RestAdmin;
  capabilities: Pick<Capabilities, 'configure' | 'timeControl' | 'serverDrop'>;
  missing: Partial<Record<Capability, string>>;
  runPrefix: string;
  /** Moves the server's clock (time hook). */
  step(ms: number): Promise<void>;
  reset(): Promise<void>;
  /** Puts back the settings found at the start. */
  restore(): Promise<void>;
}

export async function probeServer(o: Omit<NetworkTargetOptions, 'url' | 'heartbeatMs'>): Promise<ServerSide> {
  const rest = restAdmin(o);
  const runPrefix = o.prefix ?? `conformance-${randomBytes(3).toString('hex')}-`;
  const found = await rest.readSettings();
  const hooks = await probeHooks(rest, `${runPrefix}probe`);
  const configure = found !== null && !o.noConfigure;
  const missing: ServerSide['missing'] = {};
  if (!configure) missing.configure = o.noConfigure ? 'turned off with --no-configure' : 'the server refuses POST /v4/im_open_status/config';
  if (!hooks.advance) missing.timeControl = 'the server offers no POST /v4/test/advance';
  if (!hooks.drop) missing.serverDrop = 'the server offers no POST /v4/test/drop';
  return {
    rest,
    capabilities: { configure, timeControl: hooks.advance, serverDrop: hooks.drop },
    missing,
    runPrefix,
    step: async (ms) => void (await rest.ok('test/advance', { Ms: ms })),
    reset: async () => {
      if (configure) await rest.configure(DEFAULT_SETTINGS);
    },
    restore: async () => {
      if (!configure || !found) return;
      await rest.ok('im_open_status/config', { Edition: found.Edition, Switches: found.Switches, Limits: found.Limits });
    },
  };
}

export async function networkTarget(o: NetworkTargetOptions): Promise<Target> {
  const server = await probeServer(o);
  const heartbeatMs = o.heartbeatMs ?? 10_000;
  // With the server's time in our hands, the clients' time (pings, backoff, timeouts) moves with it.
  const clock = server.capabilities.timeControl ? new SimulatedClock() : undefined;
  const clients = new Set<RemoteClient>();
  let n = 0;
  const settle = async () => {
    await Promise.all([...clients].map((c) => c.sync()));
  };
  return {
    name: `native ${o.url}`,
    capabilities: server.capabilities,
    missing: server.missing,
    admin: server.rest,
    client: (platform) => tracked(clients, new RemoteClient({ url: o.url, platform, ...(clock ? { clock } : {}), random: () => 0, reconnect: { minDelayMs: 100 } })),
    userSig: (userID) => server.rest.userSig(userID),
    async advance(ms) {
      if (!clock) throw new Error('no time control: the server offers no POST /v4/test/advance');
      // In steps of half a heartbeat: every live client pings in each step, and the server has seen the
      // pings before its own clock moves, as it would in real time.
      for (let left = ms; left > 0; ) {
        const step = Math.min(left, heartbeatMs / 2);
        clock.increment(step);
        await settle();
        await server.step(step);
        left -= step;
      }
      await settle();
    },
    settle,
    linkSlackMs: 2 * heartbeatMs,
    async dropConnections(userID, list: Client[]) {
      const back = list.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${userID} did not come back within 5 s`)), 5000);
            const h = (e: { data: any }) => {
              if (e.data.state !== 'connected') return;
              clearTimeout(t);
              c.off(EVENT.NET_STATE_CHANGE, h);
              resolve();
            };
            c.on(EVENT.NET_STATE_CHANGE, h);
          }),
      );
      const r = await server.rest.ok('test/drop', { To_Account: userID });
      if (r.Dropped !== undefined && r.Dropped !== list.length) throw new Error(`the server dropped ${r.Dropped} sockets of ${userID}, expected ${list.length}`);
      await Promise.all(back);
    },
    prefix: () => `${server.runPrefix}t${++n}_`,
    reset: server.reset,
    async close() {
      await Promise.all([...clients].map((c) => c.destroy()));
      await server.restore();
    },
  };
}
