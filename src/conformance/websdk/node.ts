// Runs a real, unmodified Web SDK (tim-js-sdk 2.x or @tencentcloud/chat 3.x) in Node: the browser globals it
// needs, a fresh copy of its module per device (TIM.create keeps one instance per SDKAppID in module scope),
// and each device's own WebSocket class, which records what goes up, can cut the socket, go mute (a lost
// network) and carries heartbeats of ours to settle on. The SDK's code runs as it ships.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WebSocket } from 'ws';
import { specPath } from '../spec';

export type SdkKind = 'tim' | 'chat';

const PACKAGES: Record<SdkKind, { name: string; major: number }> = {
  tim: { name: 'tim-js-sdk', major: 2 },
  chat: { name: '@tencentcloud/chat', major: 3 },
};

export interface LoadedSdk {
  kind: SdkKind;
  name: string;
  version: string;
  /** A fresh copy of the module, its sockets made by `socketClass`. */
  load(socketClass: typeof WebSocket): any;
}

/**
 * Finds the SDK where the user installed it (resolved from the working directory first, then from this
 * package), checks its major version, and reads its code once. Throws a clear error when it is absent.
 */
export function findSdk(kind: SdkKind, from: string = process.cwd()): LoadedSdk {
  const { name, major } = PACKAGES[kind];
  const roots = [join(from, 'package.json'), join(dirname(dirname(specPath())), 'package.json')];
  let main: string | undefined;
  let version = '';
  for (const root of roots) {
    try {
      const req = createRequire(root);
      main = req.resolve(name);
      version = (req(`${name}/package.json`) as { version: string }).version;
      break;
    } catch {
      // not installed there
    }
  }
  if (!main) throw new Error(`--client ${kind} needs ${name} ${major}.x, which is not installed (npm install ${name}@${major}); looked from ${from}`);
  if (Number(version.split('.')[0]) !== major) throw new Error(`--client ${kind} needs ${name} ${major}.x, found ${version}`);
  const source = readFileSync(main, 'utf8');
  return {
    kind,
    name,
    version,
    load(socketClass) {
      installSdkGlobals();
      const mod = { exports: {} as any };
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      new Function('module', 'exports', 'WebSocket', source)(mod, mod.exports, socketClass);
      return mod.exports?.default ?? mod.exports;
    },
  };
}

/** The globals the Web SDK looks for (see docs/tim-compat.md), plus a stub XMLHttpRequest so that
 * nothing goes to the vendor's log servers. */
export function installSdkGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.__statusEngineSdkGlobals) return;
  g.__statusEngineSdkGlobals = true;
  g.window = globalThis;
  // 3.x reads location.href once its login succeeds (without it, login() rejects).
  if (g.location === undefined) g.location = new URL('http://127.0.0.1/status-engine-conformance');
  g.WebSocket = WebSocket;
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `node/${process.version} status-engine-conformance`, cookieEnabled: false, onLine: true },
    configurable: true,
    writable: true,
  });
  g.addEventListener = () => {};
  g.removeEventListener = () => {};
  delete g.Worker;
  // The SDK may try to upload logs over HTTPS when its socket is down: this one accepts and sends nothing.
  g.XMLHttpRequest = class {
    readyState = 0;
    status = 0;
    responseText = '';
    open(): void {}
    setRequestHeader(): void {}
    send(): void {}
    abort(): void {}
    addEventListener(): void {}
    removeEventListener(): void {}
  };
}

export interface SdkEvent {
  name: string;
  data: any;
}

export interface SdkDevice {
  TIM: any;
  tim: any;
  /** Every event the SDK emitted, in order. */
  events: SdkEvent[];
  /** Every entry of every onUserStatusUpdated, in order. */
  heard: Array<{ userID: string; statusType: number; customStatus: string }>;
  /** What it heard about one user, as [statusType, customStatus] pairs. */
  about(userID: string): Array<[number, string]>;
  clear(): void;
  /** Resolves with the first event (already emitted or to come) that matches; rejects after `timeoutMs`. */
  waitFor(name: string, pred?: (data: any) => boolean, timeoutMs?: number): Promise<SdkEvent>;
  /** Waits until `check` holds (re-checked on every event), or rejects after `timeoutMs`. */
  until(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** The client side of this device's sockets, open or not. */
  sockets: WebSocket[];
  /** The socket in use now (the last one opened). */
  readonly socket: WebSocket | undefined;
  /** Cut the current socket (as a network drop would). With `block`, new sockets fail until `unblock()`. */
  cut(opts?: { block?: boolean }): void;
  unblock(): void;
  /** Frames this device sent, by servcmd, for tests of what the SDK does on its own. */
  sent: string[];
  /** Frames it received (uncompressed ones under 4 KiB), by servcmd. */
  received: string[];
  /** A lost network: nothing goes up or comes down, the socket stays open. */
  frozen: boolean;
  /** The page gives up on its socket (it looks closed to the SDK, which reconnects); the server still holds it open. */
  abandon(): void;
  /** A heartbeat of the tests' own on the current socket: resolves once all that the server sent before its reply has been handled by the SDK. */
  ping(): Promise<void>;
  destroy(): Promise<void>;
}

const EVENT_NAMES = [
  'sdkStateReady',
  'sdkStateNotReady',
  'onUserStatusUpdated',
  'kickedOut',
  'netStateChange',
  'error',
] as const;

export function createSdk(sdk: LoadedSdk, url: string, opts: { sdkAppId: number }): SdkDevice {
  const sockets: WebSocket[] = [];
  const sent: string[] = [];
  const received: string[] = [];
  const state = { blocked: false, frozen: false, pingSeq: 2_000_000_000 };
  const abandoned = new WeakSet<WebSocket>();
  const pings = new Map<number, () => void>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  // Each device's own socket class: it records the sockets and what goes up and down them, can refuse to
  // connect (a cut), can go mute both ways (a lost network), and carries the tests' own pings.
  class DeviceSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      // A blocked device dials a port that nothing listens on: the SDK sees a failed connect and retries.
      super(state.blocked ? address.replace(/^ws:\/\/[^/]+/, 'ws://127.0.0.1:9') : address, protocols);
      sockets.push(this);
      this.on('error', () => {});
      this.on('open', wake);
      this.on('close', wake);
    }
    override send(data: any, ...rest: any[]): void {
      if (state.frozen || abandoned.has(this)) return;
      try {
        sent.push(JSON.parse(Buffer.from(data as ArrayBuffer).toString('utf8')).head.servcmd);
      } catch {
        // not ours to judge
      }
      wake();
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
    override close(...args: any[]): void {
      if (abandoned.has(this)) return; // left behind, as a dead network leaves it: the server closes it in time
      (super.close as (...a: unknown[]) => void)(...args);
    }
    override terminate(): void {
      if (abandoned.has(this)) return;
      super.terminate();
    }
    /** What a dead network looks like to the page: the socket is gone; the server still holds its end. */
    abandon(): void {
      abandoned.add(this);
      super.emit('close', 1006, Buffer.alloc(0));
    }
    override emit(event: string | symbol, ...args: any[]): boolean {
      if (abandoned.has(this)) return false;
      if (event === 'message') {
        if (state.frozen) return false;
        // The SDK sets binaryType 'arraybuffer'.
        const raw = args[0] as Buffer | ArrayBuffer | string;
        const data = Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw);
        if (data.length < 4096 && data.subarray(0, 4).toString('latin1') !== 'COMP') {
          try {
            const head = JSON.parse(data.toString('utf8')).head as { servcmd: string; seq: number };
            const done = pings.get(head.seq);
            if (head.servcmd === 'heartbeat.alive' && done) {
              pings.delete(head.seq);
              done();
              return true; // the tests' ping: not the SDK's business
            }
            received.push(head.servcmd);
          } catch {
            // the SDK's business
          }
        }
        const r = super.emit(event, ...args);
        wake();
        return r;
      }
      return super.emit(event, ...args);
    }
    /** A heartbeat of the tests' own: resolves when its reply is back, i.e. after all that came before it. */
    timPing(): Promise<void> {
      const seq = ++state.pingSeq;
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pings.delete(seq);
          reject(new Error('no reply to a ping within 5 s'));
        }, 5000);
        pings.set(seq, () => {
          clearTimeout(timer);
          setImmediate(resolve);
        });
        super.send(Buffer.from(JSON.stringify({ head: { ver: 'v4', platform: 7, servcmd: 'heartbeat.alive', seq }, body: {} })), { binary: true });
      });
    }
  }
  // The SDK logs its banner before setLogLevel can be called: keep it out of the test output.
  const { TIM, tim } = quietly(() => {
    const TIM = sdk.load(DeviceSocket as unknown as typeof WebSocket);
    const tim = TIM.create({ SDKAppID: opts.sdkAppId, proxyServer: url });
    tim.setLogLevel(4);
    return { TIM, tim };
  });
  const events: SdkEvent[] = [];
  const heard: SdkDevice['heard'] = [];
  for (const name of EVENT_NAMES) {
    tim.on(name, (e: SdkEvent) => {
      events.push({ name, data: e.data });
      if (name === 'onUserStatusUpdated') heard.push(...(e.data as SdkDevice['heard']));
      wake();
    });
  }
  const until = (check: () => boolean, what: string, timeoutMs = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const tick = () => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(events.slice(-10))}`));
      }, timeoutMs);
      // Checked on every event, frame and socket change of this device; and now and then, for conditions
      // that other parties change (the server's sockets, the engine's state).
      const poll = setInterval(tick, 25);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        waiters.delete(tick);
      };
      waiters.add(tick);
    });
  const current = () => [...sockets].reverse().find((ws) => ws.readyState === WebSocket.OPEN) as DeviceSocket | undefined;
  const device: SdkDevice = {
    TIM,
    tim,
    events,
    heard,
    about: (id) => heard.filter((s) => s.userID === id).map((s) => [s.statusType, s.customStatus]),
    clear: () => {
      events.length = 0;
      heard.length = 0;
    },
    async waitFor(name, pred = () => true, timeoutMs = 5000) {
      let found: SdkEvent | undefined;
      await until(() => (found = events.find((e) => e.name === name && pred(e.data))) !== undefined, `event ${name}`, timeoutMs);
      return found!;
    },
    until,
    sockets,
    get socket() {
      return current();
    },
    sent,
    received,
    cut(o = {}) {
      if (o.block) state.blocked = true;
      for (const ws of sockets) if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    },
    unblock() {
      state.blocked = false;
    },
    get frozen() {
      return state.frozen;
    },
    set frozen(v: boolean) {
      state.frozen = v;
    },
    abandon() {
      const ws = current();
      state.frozen = false;
      ws?.abandon();
    },
    async ping() {
      const ws = current();
      if (!ws) throw new Error('no open socket to ping on');
      await ws.timPing();
    },
    async destroy() {
      state.frozen = false;
      state.blocked = false;
      // destroy() logs out first; a device cut off would wait for its request timeout. Two seconds is plenty here.
      await Promise.race([Promise.resolve(tim.destroy()).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      for (const ws of sockets) {
        abandoned.delete(ws);
        ws.terminate();
      }
    },
  };
  return device;
}

function quietly<T>(fn: () => T): T {
  const saved = { log: console.log, info: console.info, warn: console.warn };
  console.log = console.info = console.warn = () => {};
  try {
    return fn();
  } finally {
    Object.assign(console, saved);
  }
}

