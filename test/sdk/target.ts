// The third target of the behavioural suite (test/behaviour/target.ts): the real Web SDK. A TIM instance is
// made to look like a Client (SdkClient, the shipped one of src/conformance/websdk), against the gateway over an in-process engine (sdkTarget) or
// against the real `status-engine serve` process (sdkServeTarget). Time: the engine's clock is simulated and
// moves only in advance(); the SDKs run in real time, and each live SDK "heartbeats" (a ping of ours on its
// socket) before every step, as a live page would.
import { DEFAULT_LIMITS, ErrorCode, type ConfigChange, type Platform } from '../../src/index';
import type { Client } from '../../src/client/types';
import { restAdmin } from '../../src/conformance/targets/rest';
import { SdkClient } from '../../src/conformance/websdk/client';
import { engineAdmin, tracked, type Target } from '../behaviour/target';
import { sig, startServerProcess, SECRET, SDK_APP_ID as SERVE_APP_ID } from '../server/proc';
import { createSdk, startTestServer, testUserSig, SDK_APP_ID, type SdkName } from './harness';

/** What the Web SDK cannot show an app, and so what the suite cannot expect of this target. */
export const SDK_TRAITS = Object.freeze({
  /** Events and results carry only {userID, statusType, customStatus}: no version or reason (EXT-1/2). */
  extensionFields: false,
  /** The SDK cuts lists over 500 (query) / 100 (subscribe, unsubscribe) itself, silently: the server never sees more. */
  truncatesLongLists: true,
  /** The SDK limits itself to 20 calls per 5 s (real time) per command, with 2996 and no retryAfterMs. */
  clientRateLimit: { requests: 20, windowMs: 5000 },
  /** A web SDK is always a web device: no native platforms, no background. */
  nativePlatforms: false,
  /** No setVisibility (EXT-5), no subscriptionEnded (EXT-4), no pushCurrent (EXT-2). */
  extensions: false,
} as const);

const HEARTBEAT_STEP_MS = 10_000;
/** The gateway's default silentAfterMs (1.5 x HelloInterval 30 s). */
const GATEWAY_SILENT_AFTER_MS = 45_000;

const DEFAULT_SETTINGS: ConfigChange = {
  edition: 'ultimate',
  switches: { userStatus: true, friendStatusNotify: false },
  limits: { ...DEFAULT_LIMITS, rateLimit: { ...DEFAULT_LIMITS.rateLimit } },
};

interface Backend {
  url: string;
  sdkAppId: number;
  admin: Target['admin'];
  userSig(userID: string): string;
  /** Moves the server's clock by `ms` (one step: the target splits advances). */
  step(ms: number): Promise<void>;
  /** Cuts the server's end of the given SDK sockets (where the backend can), else the client's end. */
  drop(clients: SdkClient[]): void;
  close(): Promise<void>;
}

function sdkTargetOver(name: string, backend: Backend, sdk: SdkName): Target {
  const clients = new Set<SdkClient>();
  let n = 0;
  const settle = async () => {
    await Promise.all([...clients].filter((c) => c.live).map((c) => c.sdk.ping()));
  };
  return {
    name,
    traits: { extensionFields: SDK_TRAITS.extensionFields, codeAfterKick: ErrorCode.KICKED_OUT },
    admin: {
      ...backend.admin,
      // The edition reaches each SDK as a push (its own gate, 3122): configure returns once they all have it.
      configure: async (c) => {
        await backend.admin.configure(c);
        await settle();
      },
    },
    client(_platform?: Platform): Client {
      // A web SDK is a web device whatever the test asks for (SDK_TRAITS.nativePlatforms).
      return tracked(clients, new SdkClient(createSdk(backend.url, { sdkAppId: backend.sdkAppId, sdk })));
    },
    userSig: (userID) => backend.userSig(userID),
    async advance(ms) {
      let left = ms;
      while (left > 0) {
        const step = Math.min(left, HEARTBEAT_STEP_MS);
        await settle(); // every live SDK has been heard just before the clock moves
        await backend.step(step);
        left -= step;
      }
      await settle();
    },
    settle,
    // A lost network is noticed when the gateway finds the socket quiet: up to silentAfterMs plus one step late.
    linkSlackMs: GATEWAY_SILENT_AFTER_MS + HEARTBEAT_STEP_MS,
    async dropConnections(_userID, list) {
      const sdks = list as SdkClient[];
      const before = sdks.map((c) => c.sdk.sent.filter((x) => x === 'im_open_status.wslogin').length);
      backend.drop(sdks);
      await Promise.all(sdks.map((c, i) => c.awaitRelogin(before[i]!)));
    },
    prefix: () => `s${++n}_`,
    reset: async () => {
      await backend.admin.configure(DEFAULT_SETTINGS);
      await settle();
    },
    async close() {
      await Promise.all([...clients].map((c) => c.destroy()));
      await backend.close();
    },
  };
}

/** The SDK against the gateway over an engine in this process (SimulatedClock). */
export async function sdkTarget(sdk: SdkName = 'tim2'): Promise<Target> {
  const server = await startTestServer({ users: [] });
  const engine = server.engine;
  return sdkTargetOver(sdk === 'tim2' ? 'sdk' : `sdk-${sdk}`, {
    url: server.url,
    sdkAppId: SDK_APP_ID,
    admin: engineAdmin(engine),
    userSig: testUserSig,
    step: async (ms) => server.clock!.increment(ms),
    drop(clients) {
      for (const c of clients) {
        const ws = c.sdk.socket && server.serverSideOf(c.sdk.socket);
        if (!ws) throw new Error('no server-side socket for this SDK');
        ws.terminate();
      }
    },
    close: () => server.close(),
  }, sdk);
}

/** The SDK against the real server process: `status-engine serve --clock simulated`, admin over REST. */
export async function sdkServeTarget(sdk: SdkName = 'tim2'): Promise<Target> {
  const server = await startServerProcess(['--clock', 'simulated', '--store', 'memory']);
  // The admin REST calls of the shipped conformance targets; the devices' UserSigs still come from tls-sig-api-v2.
  const rest = restAdmin({ admin: server.url, sdkAppId: SERVE_APP_ID, secretKey: SECRET });
  return sdkTargetOver(sdk === 'tim2' ? 'sdk-serve' : `sdk-serve-${sdk}`, {
    url: server.url.replace(/^http/, 'ws'),
    sdkAppId: SERVE_APP_ID,
    admin: rest,
    userSig: (userID) => sig(userID),
    step: async (ms) => void (await rest.ok('test/advance', { Ms: ms })),
    drop(clients) {
      // The server process's sockets are out of reach: cut the client's end, which the server sees the same way.
      for (const c of clients) c.sdk.socket?.terminate();
    },
    close: async () => {
      const code = await server.stop();
      if (code !== 0) throw new Error(`server exited with ${code}:\n${server.log()}`);
    },
  }, sdk);
}
