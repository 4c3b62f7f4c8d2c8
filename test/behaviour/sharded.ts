// Engines side by side (issue 10 item 5): N engines in one process over one MemoryBroker, the users split
// between them by a hash of the userID, each engine owning its part. The suite's clients reach them through
// a small router port, as a front-end of a sharded deployment would: a device's calls go to the owner of the
// user it logs in as; the admin's to the owner of each user (settings, app-wide, to all).
import { SimulatedClock } from 'xstate';
import { LocalClient } from '../../src/client/local';
import type { DeviceHandle, EnginePort } from '../../src/engine/port';
import { coreOf } from '../../src/engine/engine';
import { DEFAULT_SETTINGS } from '../../src/conformance/targets/settings';
import type { AdminOps, Target } from '../../src/conformance/target';
import { createEngine, MemoryBroker, type Engine, type EngineOptions } from '../../src/index';

/** FNV-1a: a stable split of the users, so that a test's users land on different engines. */
export function shardOf(userID: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userID.length; i++) h = Math.imul(h ^ userID.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

export function shardedEngines(n: number, options: Omit<EngineOptions, 'clock' | 'broker' | 'owns'> = {}) {
  const clock = new SimulatedClock();
  const broker = new MemoryBroker();
  const engines: Engine[] = [];
  for (let i = 0; i < n; i++) engines.push(createEngine({ switches: { userStatus: true }, ...options, clock, broker, owns: (u) => shardOf(u, n) === i }));
  const ports = engines.map((e) => coreOf(e));
  const ownerOf = (userID: unknown): EnginePort => ports[typeof userID === 'string' ? shardOf(userID, n) : 0]!;
  return { clock, broker, engines, ports, ownerOf, engineOf: (userID: string) => engines[shardOf(userID, n)]! };
}

/** The port a front-end of the sharded engines offers: each call goes to the engine owning the device's user. */
export function routerPort(ports: EnginePort[], ownerOf: (userID: unknown) => EnginePort): EnginePort {
  const first = ports[0]!;
  const of = (h: DeviceHandle) => ownerOf(h.userID);
  return {
    clock: first.clock,
    get limits() {
      return first.limits;
    },
    get currentSeq() {
      return first.currentSeq;
    },
    get acknowledgesLater() {
      return false;
    },
    // A session belongs to no engine until it logs in: the owner of its user takes it then.
    openSession: (platform, sink, deviceId) => first.openSession(platform, sink, deviceId),
    closeSession: (s) => of(s).closeSession(s),
    login: (s, userID) => {
      // A dropped device that logs in as a user of another engine leaves the engine that kept it for its comeback.
      const to = ownerOf(userID);
      const from = s.userID !== null ? ownerOf(s.userID) : null;
      if (from !== null && from !== to && !s.loggedIn) from.closeSession(s);
      return to.login(s, userID);
    },
    logout: (s) => of(s).logout(s),
    adopt: (s, userID, held) => ownerOf(userID).adopt(s, userID, held),
    reconnect: (s, held) => of(s).reconnect(s, held),
    linkEvent: (s, e) => of(s).linkEvent(s, e),
    background: (s) => of(s).background(s),
    foreground: (s) => of(s).foreground(s),
    setSelfStatus: (s, o) => of(s).setSelfStatus(s, o),
    getUserStatus: (s, o) => of(s).getUserStatus(s, o),
    subscribe: (s, o) => of(s).subscribe(s, o),
    unsubscribe: (s, o) => of(s).unsubscribe(s, o),
    setVisibility: (s, v) => of(s).setVisibility(s, v),
    statusOf: (u, viewer) => ownerOf(u).statusOf(u, viewer),
    registerUsers: (ids) => byOwner(ids, ownerOf, (p, part) => p.registerUsers(part)),
    hasUser: (u) => ownerOf(u).hasUser(u),
    changeFriends: (u, ids, add, both) => ownerOf(u).changeFriends(u, ids, add, both),
    configure: (c) => ports.forEach((p) => p.configure(c)),
    settings: () => first.settings(),
    queryStatus: (ids, opts) => (Array.isArray(ids) ? ids.map((u) => ownerOf(u).queryStatus([u], opts)[0]!) : first.queryStatus(ids, opts)),
    explain: (u) => ownerOf(u).explain(u),
    userDetail: (u) => ownerOf(u).userDetail(u),
    userCount: () => ports.reduce((n, p) => n + p.userCount(), 0),
    onlineUserIDs: () => ports.flatMap((p) => p.onlineUserIDs()),
    journal: (o) => first.journal(o),
    exportState: () => first.exportState(),
    close: () => ports.forEach((p) => p.close()),
    acknowledge: (v) => Promise.resolve(v),
    onTransition: (l) => {
      const offs = ports.map((p) => p.onTransition(l));
      return () => offs.forEach((off) => off());
    },
    onSettingsChange: (l) => first.onSettingsChange(l),
  };
}

function byOwner(ids: unknown, ownerOf: (u: unknown) => EnginePort, fn: (p: EnginePort, part: string[]) => void): void {
  if (!Array.isArray(ids)) return fn(ownerOf(null), ids as string[]);
  const parts = new Map<EnginePort, string[]>();
  for (const u of ids) {
    const p = ownerOf(u);
    parts.set(p, [...(parts.get(p) ?? []), u]);
  }
  for (const [p, part] of parts) fn(p, part);
}

export async function shardedTarget(n = 2): Promise<Target> {
  const { clock, engines, ports, ownerOf } = shardedEngines(n);
  const port = routerPort(ports, ownerOf);
  const call = <T>(fn: () => T) => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const admin: AdminOps = {
    register: (ids) => call(() => port.registerUsers(ids)),
    addFriends: (u, ids) => call(() => port.changeFriends(u, ids, true)),
    removeFriends: (u, ids) => call(() => port.changeFriends(u, ids, false)),
    configure: (c) => call(() => port.configure(c)),
    queryStatus: (ids) => call(() => port.queryStatus(ids, undefined)),
  };
  let k = 0;
  return {
    name: `sharded x${n}`,
    admin,
    client: (platform) => new LocalClient(port, platform ?? 'web'),
    userSig: () => '',
    advance: async (ms) => clock.increment(ms),
    settle: async () => {},
    linkSlackMs: 0,
    dropConnections: async (_userID, clients) => {
      for (const c of clients) c.disconnect('link_closed');
      for (const c of clients) await c.reconnect();
    },
    prefix: () => `t${++k}_`,
    reset: async () => {
      for (const e of engines) await e.configure(DEFAULT_SETTINGS);
    },
    close: async () => {
      for (const e of engines) await e.close();
    },
  };
}
