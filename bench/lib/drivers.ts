// The things a benchmark drives through a World: the baseline (bench/baseline.ts), status-engine through
// its core session API (src/engine/core.ts), and status-engine through the public Promise API
// (createClient). Each counts what its devices receive, so the runs can be checked against each other.
import { BaselineClient, BaselineDevice, BaselineEngine, type BaselineEvent } from '../baseline';
import { createClient } from '../../src/client/index';
import type { Client } from '../../src/client/types';
import type { DeviceSession, EngineCore } from '../../src/engine/core';
import { coreOf, createEngine } from '../../src/engine/engine';
import type { ClientEvent } from '../../src/events';
import type { Store } from '../../src/store/types';
import type { Engine } from '../../src/types';
import { OP_LOGIN, OP_LOGOUT, OP_SET, type World } from './world';

/** What the devices of a driver received: events, and the sum of their versions (a cheap checksum). */
export interface Tally {
  count: number;
  sum: number;
}

export interface Driver {
  readonly name: string;
  readonly tally: Tally;
  /** Registers, befriends, logs in and subscribes the world's users (not timed). */
  setup(w: World, progress?: (msg: string) => void): Promise<void>;
  /** Runs operations [from, to). */
  run(w: World, from: number, to: number): void | Promise<void>;
  close(): Promise<void>;
}

const REGISTER_CHUNK = 100_000;

function idsOf(w: World, list: Int32Array, u: number, per: number): string[] {
  const out = new Array<string>(per);
  for (let k = 0; k < per; k++) out[k] = w.ids[list[u * per + k]!]!;
  return out;
}

/** The Promise-API loop both sides run (the engine's clients and the baseline's), the same code for fairness. */
interface PromiseDevice {
  setSelfStatus(o: { customStatus: string }): Promise<unknown>;
  login(o: { userID: string }): Promise<unknown>;
  logout(): Promise<unknown>;
  subscribeUserStatus(o: { userIDList: string[] }): Promise<unknown>;
}
/** The Promise-API set-up both sides run: each active user's first device logs in and subscribes, then the rest log in. */
async function loginPromiseDevices(cs: readonly PromiseDevice[], w: World, active: number, devices: number, subs: number): Promise<void> {
  for (let u = 0; u < active; u++) {
    const c = cs[u * devices]!;
    await c.login({ userID: w.ids[u]! });
    if (subs > 0) await c.subscribeUserStatus({ userIDList: idsOf(w, w.subsOf, u, subs) });
  }
  for (let u = 0; u < active; u++) for (let k = 1; k < devices; k++) await cs[u * devices + k]!.login({ userID: w.ids[u]! });
}

async function runPromiseOps(cs: readonly PromiseDevice[], w: World, from: number, to: number): Promise<void> {
  const { kind, dev, status, ids } = w;
  const per = w.spec.devices;
  for (let i = from; i < to; i++) {
    const c = cs[dev[i]!]!;
    switch (kind[i]) {
      case OP_SET:
        await c.setSelfStatus({ customStatus: status[i]! });
        break;
      case OP_LOGIN:
        await c.login({ userID: ids[Math.floor(dev[i]! / per)]! });
        break;
      case OP_LOGOUT:
        await c.logout();
        break;
    }
  }
}

export class BaselineDriver implements Driver {
  readonly name: string;
  readonly tally: Tally = { count: 0, sum: 0 };
  readonly engine = new BaselineEngine();
  private devices: BaselineDevice[] = [];
  private clients: BaselineClient[] = [];

  /** 'core': the engine's methods, called synchronously; 'client': BaselineClient's async methods, awaited. */
  constructor(readonly api: 'core' | 'client' = 'core') {
    this.name = api === 'core' ? 'baseline' : 'baseline-promise';
  }

  async setup(w: World): Promise<void> {
    const { active, subs, friends, devices } = w.spec;
    const t = this.tally;
    const sink = (e: BaselineEvent) => {
      t.count++;
      t.sum += e.data[0]!.version;
    };
    for (let i = 0; i < w.ids.length; i += REGISTER_CHUNK) this.engine.register(w.ids.slice(i, i + REGISTER_CHUNK));
    for (let u = 0; u < active; u++) if (friends > 0) this.engine.addFriends(w.ids[u]!, idsOf(w, w.friendsOf, u, friends));
    if (this.api === 'client') {
      this.clients = Array.from({ length: active * devices }, () => {
        const c = new BaselineClient(this.engine);
        c.on('onUserStatusUpdated', sink);
        return c;
      });
      await loginPromiseDevices(this.clients, w, active, devices, subs);
      return;
    }
    this.devices = Array.from({ length: active * devices }, () => new BaselineDevice(sink));
    for (let u = 0; u < active; u++) {
      this.engine.login(this.devices[u * devices]!, w.ids[u]!);
      if (subs > 0) this.engine.subscribe(w.ids[u]!, idsOf(w, w.subsOf, u, subs));
    }
    for (let u = 0; u < active; u++) for (let k = 1; k < devices; k++) this.engine.login(this.devices[u * devices + k]!, w.ids[u]!);
  }

  run(w: World, from: number, to: number): void | Promise<void> {
    return this.api === 'core' ? this.runCore(w, from, to) : this.runClient(w, from, to);
  }

  private runClient(w: World, from: number, to: number): Promise<void> {
    return runPromiseOps(this.clients, w, from, to);
  }

  private runCore(w: World, from: number, to: number): void {
    const { kind, dev, status, ids } = w;
    const per = w.spec.devices;
    const e = this.engine;
    const ds = this.devices;
    for (let i = from; i < to; i++) {
      const d = ds[dev[i]!]!;
      switch (kind[i]) {
        case OP_SET:
          e.setSelfStatus(d, status[i]!);
          break;
        case OP_LOGIN:
          e.login(d, ids[Math.floor(dev[i]! / per)]!);
          break;
        case OP_LOGOUT:
          e.logout(d);
          break;
      }
    }
  }

  async close(): Promise<void> {}
}

export interface EngineDriverOptions {
  /** EXT-3 journal on (the default) or off. */
  journal: boolean;
  /** 'core': EngineCore's synchronous session API; 'client': createClient's Promises. */
  api: 'core' | 'client';
  store?: Store;
}

export class EngineDriver implements Driver {
  readonly name: string;
  readonly tally: Tally = { count: 0, sum: 0 };
  engine!: Engine;
  core!: EngineCore;
  private sessions: DeviceSession[] = [];
  private clients: Client[] = [];

  constructor(readonly options: EngineDriverOptions) {
    this.name = `${options.api}${options.journal ? '' : '-nojournal'}${options.store ? `-${options.store.kind}` : ''}`;
  }

  async setup(w: World, progress?: (msg: string) => void): Promise<void> {
    const { active, subs, friends, devices } = w.spec;
    this.engine = createEngine({
      switches: { userStatus: true, friendStatusNotify: true },
      journal: this.options.journal,
      ...(this.options.store ? { store: this.options.store } : {}),
    });
    const core = (this.core = coreOf(this.engine));
    for (let i = 0; i < w.ids.length; i += REGISTER_CHUNK) core.registerUsers(w.ids.slice(i, i + REGISTER_CHUNK));
    progress?.('registered');
    for (let u = 0; u < active; u++) if (friends > 0) core.changeFriends(w.ids[u]!, idsOf(w, w.friendsOf, u, friends), true);
    progress?.('befriended');
    const t = this.tally;
    const n = active * devices;
    if (this.options.api === 'core') {
      const sink = (e: ClientEvent) => {
        if (e.name !== 'onUserStatusUpdated') return;
        t.count++;
        t.sum += e.data[0]!.version;
      };
      this.sessions = Array.from({ length: n }, () => core.openSession('web', sink));
      for (let u = 0; u < active; u++) {
        const s = this.sessions[u * devices]!;
        core.login(s, w.ids[u]!);
        if (subs > 0) core.subscribe(s, { userIDList: idsOf(w, w.subsOf, u, subs) });
      }
      for (let u = 0; u < active; u++) for (let k = 1; k < devices; k++) core.login(this.sessions[u * devices + k]!, w.ids[u]!);
    } else {
      const handler = (e: ClientEvent) => {
        if (e.name !== 'onUserStatusUpdated') return;
        t.count++;
        t.sum += e.data[0]!.version;
      };
      this.clients = Array.from({ length: n }, () => {
        const c = createClient({ engine: this.engine, platform: 'web' });
        c.on('onUserStatusUpdated', handler);
        return c;
      });
      await loginPromiseDevices(this.clients, w, active, devices, subs);
    }
    progress?.('logged in and subscribed');
  }

  run(w: World, from: number, to: number): void | Promise<void> {
    return this.options.api === 'core' ? this.runCore(w, from, to) : this.runClient(w, from, to);
  }

  private runCore(w: World, from: number, to: number): void {
    const { kind, dev, status, ids } = w;
    const per = w.spec.devices;
    const core = this.core;
    const ss = this.sessions;
    for (let i = from; i < to; i++) {
      const s = ss[dev[i]!]!;
      switch (kind[i]) {
        case OP_SET:
          core.setSelfStatus(s, { customStatus: status[i]! });
          break;
        case OP_LOGIN:
          core.login(s, ids[Math.floor(dev[i]! / per)]!);
          break;
        case OP_LOGOUT:
          core.logout(s);
          break;
      }
    }
  }

  private runClient(w: World, from: number, to: number): Promise<void> {
    return runPromiseOps(this.clients, w, from, to);
  }

  async close(): Promise<void> {
    await this.engine.close();
    this.options.store?.close();
  }
}
