// Runs the real, unmodified Web SDK in Node against status-engine (shared/spec/TIM-WIRE.md): tim-js-sdk 2.x
// and @tencentcloud/chat 3.x, one fresh SDK module per device (the shipped loader and device of
// src/conformance/websdk, so that the tests prove the code the conformance runner uses), a minimal server that
// routes /binfo and /info to the gateway over an in-process engine and records what each socket sent it, and
// waits on events with a timeout (never fixed sleeps).
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SimulatedClock } from 'xstate';
import { WebSocket, WebSocketServer } from 'ws';
import { createEngine, StatusError, type Engine, type EngineOptions } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import type { EngineCore } from '../../src/engine/core';
import { createTimGateway, type TimGateway, type TimGatewayOptions } from '../../src/server/timGateway';
import { createSdk as createSdkDevice, findSdk, type LoadedSdk, type SdkDevice, type SdkEvent, type SdkKind } from '../../src/conformance/websdk/node';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
export const SDK_APP_ID = 1400000001;

const KIND: Record<SdkName, SdkKind> = { tim2: 'tim', chat3: 'chat' };
const loaded = new Map<SdkName, LoadedSdk>();

/**
 * The SDK as the shipped conformance runner finds and loads it (src/conformance/websdk/node.ts): a fresh
 * module per device, each with its own WebSocket class. Read once per SDK.
 */
export function loadSdk(sdk: SdkName = 'tim2'): LoadedSdk {
  let l = loaded.get(sdk);
  if (!l) loaded.set(sdk, (l = findSdk(KIND[sdk], ROOT)));
  return l;
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
// One SDK instance = one device: the shipped one (src/conformance/websdk/node.ts), of the SDK named.

export type { SdkDevice, SdkEvent };

export function createSdk(url: string, opts: { sdkAppId?: number; sdk?: SdkName } = {}): SdkDevice {
  return createSdkDevice(loadSdk(opts.sdk), url, { sdkAppId: opts.sdkAppId ?? SDK_APP_ID });
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
  /** Sends one frame without waiting for an answer (the SDK's `simplySend`); returns its head.seq. */
  tell(servcmd: string, body?: Record<string, unknown>, head?: Record<string, unknown>): number;
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
  const send = (servcmd: string, s: number, body: Record<string, unknown>, head: Record<string, unknown>) => {
    const frame = JSON.stringify({ head: { ver: 'v4', platform: 7, sdkappid: SDK_APP_ID, contenttype: 'json', servcmd, seq: s, ...head }, body });
    ws.send(binary ? Buffer.from(frame) : frame, { binary });
  };
  return {
    ws,
    pushes,
    compressed,
    text,
    closed,
    request(servcmd, body = {}, head = {}) {
      const s = ++seq;
      return new Promise<WireReply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${servcmd} within 3 s`)), 3000);
        pending.set(`${servcmd}#${s}`, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        send(servcmd, s, body, head);
      });
    },
    tell(servcmd, body = {}, head = {}) {
      const s = ++seq;
      send(servcmd, s, body, head);
      return s;
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
