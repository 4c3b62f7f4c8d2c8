// The Web SDK's protocol, through the real SDK the user installed (tim-js-sdk 2.x: --client tim;
// @tencentcloud/chat 3.x: --client chat), against a running server, set up through the Tencent-style REST
// admin. The SDKs run in real time; the server's time moves only through its test hook, and each live SDK
// is heard (a heartbeat of ours) just before every step, as a live page would be.
import { ErrorCode } from '../../errors';
import type { Client } from '../../client/types';
import type { Platform } from '../../types';
import { tracked, type Target } from '../target';
import { probeServer, type NetworkTargetOptions } from '../targets/network';
import { SdkClient } from './client';
import { createSdk, findSdk, type SdkKind } from './node';

export interface WebSdkTargetOptions extends Omit<NetworkTargetOptions, 'heartbeatMs'> {
  sdk: SdkKind;
  /** Where to look for the SDK package first. Default: the working directory. */
  from?: string;
  /** How late a lost network may be noticed after its timeout. Default 55,000 (our gateway's 45 s + a step). */
  linkSlackMs?: number;
}

const STEP_MS = 10_000;

export async function webSdkTarget(o: WebSdkTargetOptions): Promise<Target> {
  const sdk = findSdk(o.sdk, o.from); // before anything touches the server: a missing SDK is the first thing said
  const server = await probeServer(o);
  const url = o.url.replace(/^http/, 'ws');
  const clients = new Set<SdkClient>();
  let n = 0;
  const settle = async () => {
    await Promise.all([...clients].filter((c) => c.live).map((c) => c.sdk.ping()));
  };
  return {
    name: `${sdk.name} ${sdk.version} ${url}`,
    capabilities: { ...server.capabilities, serverDrop: true, nativePlatforms: false, extensionFields: false },
    missing: { ...server.missing, nativePlatforms: 'a web SDK is always a web device', extensionFields: 'the Web SDK shows no version or reason fields' },
    traits: { extensionFields: false, codeAfterKick: ErrorCode.KICKED_OUT },
    admin: {
      ...server.rest,
      // The edition reaches each SDK as a push (its own gate, 3122): configure returns once they all have it.
      configure: async (c) => {
        await server.rest.configure(c);
        await settle();
      },
    },
    client(_platform?: Platform): Client {
      return tracked(clients, new SdkClient(createSdk(sdk, url, { sdkAppId: o.sdkAppId })));
    },
    userSig: (userID) => server.rest.userSig(userID),
    async advance(ms) {
      if (!server.capabilities.timeControl) throw new Error('no time control: the server offers no POST /v4/test/advance');
      for (let left = ms; left > 0; ) {
        const step = Math.min(left, STEP_MS);
        await settle();
        await server.step(step);
        left -= step;
      }
      await settle();
    },
    settle,
    linkSlackMs: o.linkSlackMs ?? 55_000,
    async dropConnections(_userID, list) {
      // The server's sockets are out of reach: the client's end is cut, which the server sees the same way.
      const sdks = list as SdkClient[];
      const before = sdks.map((c) => c.sdk.sent.filter((x) => x === 'im_open_status.wslogin').length);
      for (const c of sdks) c.sdk.socket?.terminate();
      await Promise.all(sdks.map((c, i) => c.awaitRelogin(before[i]!)));
    },
    prefix: () => `${server.runPrefix}s${++n}_`,
    async reset() {
      await server.reset();
      await settle();
    },
    async close() {
      await Promise.all([...clients].map((c) => c.destroy()));
      await server.restore();
    },
  };
}
