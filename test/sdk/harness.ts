// Runs the real, unmodified Web SDK in Node against status-engine (shared/spec/TIM-WIRE.md): tim-js-sdk 2.x
// and @tencentcloud/chat 3.x, the globals they need, one fresh SDK module per device, a minimal server that
// routes /binfo and /info to the gateway over an in-process engine and records what each socket sent it, and
// waits on events with a timeout (never fixed sleeps).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from 'xstate';
import { WebSocket, WebSocketServer } from 'ws';
import { createEngine, StatusError, type Engine, type EngineOptions } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import type { EngineCore } from '../../src/engine/core';
import { createTimGateway, type TimGateway, type TimGatewayOptions } from '../../src/server/timGateway';

const require = createRequire(import.meta.url);

/** The two SDK packages under test, both pinned in package.json: the older tim-js-sdk and the current one. */
export type SdkName = 'tim2' | 'chat3';
const sdkPackage = (pkg: string) => {
  const version = (require(`${pkg}/package.json`) as { version: string }).version;
  return { pkg, path: require.resolve(pkg), version, label: `${pkg}@${version}` };
};
export const SDKS: Readonly<Record<SdkName, ReturnType<typeof sdkPackage>>> = Object.freeze({
  tim2: sdkPackage('tim-js-sdk'),
  chat3: sdkPackage('@tencentcloud/chat'),
});
export const SDK_PATH = SDKS.tim2.path;
export const SDK_VERSION = SDKS.tim2.version;
export const SDK_APP_ID = 1400000001;

/**
 * The five globals of TIM-WIRE.md, plus `window.location` (3.x reads `location.href` when its login
 * succeeds; without it login() rejects with a TypeError), and a stub XMLHttpRequest so that nothing leaves 127.0.0.1.
 */
export function installSdkGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.__timGlobals) return;
  g.__timGlobals = true;
  g.window = globalThis;
  g.location = new URL('http://127.0.0.1/status-engine-tests');
  g.WebSocket = WebSocket;
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `node/${process.version} status-engine-tests`, cookieEnabled: false, onLine: true },
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

const sdkSource = new Map<SdkName, string>();

/**
 * A fresh copy of the SDK module. `TIM.create` keeps one instance per SDKAppID in module scope, so two
 * devices of one app in one process need two copies. Each copy also gets its own WebSocket class (both SDKs
 * use the free name `WebSocket`), which lets a test find and cut that device's sockets. The SDK's source
 * is run as it ships; only the module wrapper is ours, as a bundler's would be.
 */
export function loadTim(socketClass: typeof WebSocket = WebSocket, sdk: SdkName = 'tim2'): any {
  installSdkGlobals();
  let source = sdkSource.get(sdk);
  if (source === undefined) sdkSource.set(sdk, (source = readFileSync(SDKS[sdk].path, 'utf8')));
  const mod = { exports: {} as any };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('module', 'exports', 'WebSocket', source)(mod, mod.exports, socketClass);
  return mod.exports;
}

// ---------------------------------------------------------------------------------------------------------
// A minimal server: what src/server/ will do, reduced to routing upgrades to the gateway.

export interface TestServer {
  url: string;
  port: number;
  engine: Engine;
  core: EngineCore;
  clock: SimulatedClock | null;
  /** The gateway upgrades go to (a test may swap in another, as a restarted server would have). */
  gateway: TimGateway;
  /** Server-side sockets, open ones only. */
  sockets: Set<WebSocket>;
  /** The servcmd of every frame each server-side socket received, in order (what the SDK asked the server). */
  uplink: Map<WebSocket, string[]>;
  /** The server's end of a client socket (matched by port), to drop it from the server's side. */
  serverSideOf(client: WebSocket): WebSocket | undefined;
  close(): Promise<void>;
}

/** Test UserSigs: `sig:<userID>` is valid; anything else is refused as a forged signature would be. */
export const testUserSig = (userID: string): string => `sig:${userID}`;
export const USERSIG_INVALID = 70003;

export function testVerifier(userID: string | undefined, userSig: string | undefined): string {
  if (typeof userID !== 'string' || userID === '') throw new StatusError(USERSIG_INVALID, 'identifier is missing');
  if (userSig !== testUserSig(userID)) throw new StatusError(USERSIG_INVALID, `the UserSig is not valid for '${userID}'`);
  return userID;
}

export async function startTestServer(
  options: EngineOptions & { users?: string[]; simulated?: boolean; gateway?: Partial<TimGatewayOptions> } = {},
): Promise<TestServer> {
  const { users = ['alice', 'bob', 'carol', 'dave'], simulated = true, gateway: gwOpts = {}, ...engineOptions } = options;
  const clock = simulated ? new SimulatedClock() : null;
  const engine = createEngine({ switches: { userStatus: true }, ...(clock ? { clock } : {}), ...engineOptions });
  if (users.length > 0) await engine.registerUsers(users);
  const core = coreOf(engine);
  const gateway = createTimGateway({ core, verifyUserSig: testVerifier, sdkAppId: SDK_APP_ID, ...gwOpts });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  const uplink = new Map<WebSocket, string[]>();
  const http: Server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  http.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/binfo' && path !== '/info') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.once('close', () => sockets.delete(ws));
      const heard: string[] = [];
      uplink.set(ws, heard);
      ws.on('message', (data: Buffer) => {
        try {
          heard.push(String(JSON.parse(data.toString('utf8')).head.servcmd));
        } catch {
          heard.push('(not a frame)');
        }
      });
      server.gateway.handle(ws, req);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const server: TestServer = {
    url: `ws://127.0.0.1:${port}`,
    port,
    engine,
    core,
    clock,
    gateway,
    sockets,
    uplink,
    serverSideOf(client) {
      const port = (client as unknown as { _socket?: { localPort?: number } })._socket?.localPort;
      return [...sockets].find((ws) => (ws as unknown as { _socket?: { remotePort?: number } })._socket?.remotePort === port);
    },
    async close() {
      await server.gateway.close();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections?.();
      await engine.close();
    },
  };
  return server;
}

// ---------------------------------------------------------------------------------------------------------
// One SDK instance = one device.

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

export function createSdk(url: string, opts: { sdkAppId?: number; sdk?: SdkName } = {}): SdkDevice {
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
    const TIM = loadTim(DeviceSocket as unknown as typeof WebSocket, opts.sdk);
    const tim = TIM.create({ SDKAppID: opts.sdkAppId ?? SDK_APP_ID, proxyServer: url });
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

/** Logs a device in and waits for SDK_READY. */
export async function loginReady(d: SdkDevice, userID: string, userSig = testUserSig(userID)): Promise<unknown> {
  const r = await d.tim.login({ userID, userSig });
  await d.waitFor('sdkStateReady');
  return r;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    const v = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('expected a rejection')) throw e;
    return e as { code: number; message: string };
  }
}

// ---------------------------------------------------------------------------------------------------------
// A world for scenario tests: one server, devices that are cleaned up after the test.

export interface SdkWorld {
  server: TestServer;
  /** A new SDK instance (not logged in), of the world's SDK unless told. */
  device(sdk?: SdkName): SdkDevice;
  /** A new SDK instance logged in as `userID` and ready, with what it heard so far cleared. */
  online(userID: string, sdk?: SdkName): Promise<SdkDevice>;
  /**
   * Everything the server sent `d` before now has arrived: `d` changes its own custom status and waits for
   * the push about itself, which travels behind them on the same socket. Clears what it heard about itself.
   */
  barrier(d: SdkDevice, userID: string): Promise<void>;
  close(): Promise<void>;
}

let barrierCount = 0;

export async function sdkWorld(options: Parameters<typeof startTestServer>[0] & { sdk?: SdkName } = {}): Promise<SdkWorld> {
  const { sdk: worldSdk = 'tim2', ...serverOptions } = options;
  const server = await startTestServer(serverOptions);
  const devices: SdkDevice[] = [];
  const device = (sdk: SdkName = worldSdk) => {
    const d = createSdk(server.url, { sdk });
    devices.push(d);
    return d;
  };
  return {
    server,
    device,
    async online(userID, sdk) {
      const d = device(sdk);
      await loginReady(d, userID);
      d.clear();
      return d;
    },
    async barrier(d, userID) {
      const mark = `barrier-${++barrierCount}`;
      await d.tim.setSelfStatus({ customStatus: mark });
      await d.waitFor('onUserStatusUpdated', (data) => data.some((s: { userID: string; customStatus: string }) => s.userID === userID && s.customStatus === mark));
      for (let i = d.heard.length - 1; i >= 0; i--) if (d.heard[i]!.userID === userID) d.heard.splice(i, 1);
    },
    async close() {
      await Promise.all(devices.splice(0).map((d) => d.destroy()));
      await server.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// A raw wire client: speaks the SDK's protocol frame by frame, for gateway tests the SDK cannot drive.

export interface WireReply {
  head: { servcmd: string; seq?: number };
  body: Record<string, any>;
}

export interface WireClient {
  ws: WebSocket;
  /** Sends one request and resolves with its reply (matched by servcmd + seq, as the SDK does). */
  request(servcmd: string, body?: Record<string, unknown>, head?: Record<string, unknown>): Promise<WireReply>;
  /** Sends raw bytes or text. */
  raw(data: Buffer | string, binary?: boolean): void;
  /** Every frame that was not a reply, in order. */
  pushes: WireReply[];
  /** Whether each frame arrived compressed (`COMP` + gzip), in arrival order. */
  compressed: boolean[];
  /** Whether each frame arrived as a text frame, in arrival order. */
  text: boolean[];
  waitPush(pred: (p: WireReply) => boolean, timeoutMs?: number): Promise<WireReply>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function wireClient(url: string, opts: { path?: string; query?: Record<string, string> } = {}): Promise<WireClient> {
  const { inflateSync, gunzipSync } = await import('node:zlib');
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), platform: '7', compress: 'gzip', ...opts.query });
  const ws = new WebSocket(`${url}${opts.path ?? '/binfo'}?${q}`);
  const pending = new Map<string, (r: WireReply) => void>();
  const pushes: WireReply[] = [];
  const compressed: boolean[] = [];
  const text: boolean[] = [];
  const listeners = new Set<() => void>();
  let seq = 1000;
  ws.on('message', (data: Buffer, isBinary) => {
    text.push(!isBinary);
    let buf = Buffer.from(data);
    const comp = buf.subarray(0, 4).toString('latin1') === 'COMP';
    compressed.push(comp);
    if (comp) buf = buf[4] === 0x1f ? gunzipSync(buf.subarray(4)) : inflateSync(buf.subarray(4));
    const frame = JSON.parse(buf.toString('utf8')) as WireReply;
    const k = `${frame.head.servcmd}#${frame.head.seq}`;
    const waiter = pending.get(k);
    if (waiter) {
      pending.delete(k);
      waiter(frame);
    } else pushes.push(frame);
    for (const l of [...listeners]) l();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const binary = (opts.path ?? '/binfo') === '/binfo';
  return {
    ws,
    pushes,
    compressed,
    text,
    closed,
    request(servcmd, body = {}, head = {}) {
      const s = ++seq;
      const frame = JSON.stringify({ head: { ver: 'v4', platform: 7, sdkappid: SDK_APP_ID, contenttype: 'json', servcmd, seq: s, ...head }, body });
      return new Promise<WireReply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${servcmd} within 3 s`)), 3000);
        pending.set(`${servcmd}#${s}`, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        ws.send(binary ? Buffer.from(frame) : frame, { binary });
      });
    },
    raw(data, isBinary = true) {
      ws.send(data, { binary: isBinary });
    },
    waitPush(pred, timeoutMs = 3000) {
      return new Promise<WireReply>((resolve, reject) => {
        const check = () => {
          const p = pushes.find(pred);
          if (!p) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(p);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching push within ${timeoutMs} ms; pushes: ${JSON.stringify(pushes).slice(0, 500)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close() {
      ws.close();
    },
  };
}

/** Logs a wire client in with a UserSig; returns the login reply's body. */
export async function wireLogin(c: WireClient, userID: string, userSig = testUserSig(userID)): Promise<Record<string, any>> {
  const r = await c.request('im_open_status.wslogin', { State: 'Online', InstType: 0 }, { identifier: userID, usersig: userSig });
  return r.body;
}

/** A logger that records what the gateway logs, by level. */
export function recordingLogger() {
  const lines: Array<{ level: string; obj: unknown; msg?: string }> = [];
  const at = (level: string) => (obj: unknown, msg?: string) => lines.push({ level, obj, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } };
}

/**
 * Runs `fn` while rejections the SDK leaves unhandled with `code` are taken as expected (counted, not
 * reported); any other unhandled rejection goes to the listeners that were there before. tim-js-sdk 2.27.6
 * does not catch the rejection of its own relogin when the server refuses the session key.
 */
export async function withSdkUnhandled<T>(code: number, fn: () => Promise<T>): Promise<{ result: T; swallowed: number }> {
  const saved = process.listeners('unhandledRejection');
  let swallowed = 0;
  const mine = (reason: unknown, promise: Promise<unknown>) => {
    if ((reason as { code?: unknown } | null)?.code === code) {
      swallowed++;
      return;
    }
    for (const l of saved) l(reason, promise);
  };
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', mine);
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, 0)); // let a late rejection surface while ours is listening
    return { result, swallowed };
  } finally {
    process.removeListener('unhandledRejection', mine);
    for (const l of saved) process.on('unhandledRejection', l);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Boot: what an SDK asks the server for after login, counted on the server.

/** The SDK's last boot request: it fetches the purchase bits on a timer, about a second after login. */
export const LAST_BOOT_REQUEST = 'im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2';

/**
 * Waits for an SDK socket's boot to be over (its last boot request seen on the server), then watches a
 * bounded window of real time in which a settled SDK sends nothing at all (its next frame is a heartbeat,
 * seconds away). Resolves with what the socket sent up to the window's end, and what within the window.
 * A looping SDK (thousands a second) fails the first `maxRequests` check long before the window is over.
 */
export async function settledUplink(
  uplinkOf: () => string[] | undefined,
  opts: { windowMs?: number; maxRequests?: number; timeoutMs?: number } = {},
): Promise<{ total: string[]; inWindow: string[] }> {
  const { windowMs = 300, maxRequests = 40, timeoutMs = 5000 } = opts;
  const tooMany = (u: string[]) => u.length > maxRequests;
  await pollUntil(() => {
    const u = uplinkOf();
    return u !== undefined && (u.includes(LAST_BOOT_REQUEST) || tooMany(u));
  }, `the SDK's ${LAST_BOOT_REQUEST}`, timeoutMs);
  const before = uplinkOf()!.length;
  await pollUntil(() => tooMany(uplinkOf()!), '', windowMs).catch(() => undefined); // the window: ends early only on a flood
  const total = [...uplinkOf()!];
  return { total, inWindow: total.slice(before) };
}

/** Resolves once `check` holds (polled every 10 ms), or rejects after `timeoutMs`. */
export function pollUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started >= timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
