// The third target of the behavioural suite (test/behaviour/target.ts): the real Web SDK. A TIM instance is
// made to look like a Client (SdkClient), against the gateway over an in-process engine (sdkTarget) or
// against the real `status-engine serve` process (sdkServeTarget). Time: the engine's clock is simulated and
// moves only in advance(); the SDKs run in real time, and each live SDK "heartbeats" (a ping of ours on its
// socket) before every step, as a live page would.
import { DEFAULT_LIMITS, ErrorCode, EVENT, StatusError, type ConfigChange, type EventName, type Platform } from '../../src/index';
import type { Client, ClientEventHandler } from '../../src/client/types';
import { engineAdmin, tracked, type Target } from '../behaviour/target';
import { sig, startServerProcess, SDK_APP_ID as SERVE_APP_ID } from '../server/proc';
import { createSdk, startTestServer, testUserSig, SDK_APP_ID, type SdkDevice, type SdkName } from './harness';

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

/** A TIM instance as a Client. Calls go through the SDK's own API; only time and the network are ours. */
export class SdkClient implements Client {
  deviceId = '';
  private readonly wrapped = new Map<ClientEventHandler, Map<string, (e: { data: any }) => void>>();
  private down: 'closed' | 'lost' | null = null;
  private loggedIn = false;

  constructor(readonly sdk: SdkDevice) {}

  /** Logged in, not cut off: the target pings it to settle and to keep it alive across advance(). */
  get live(): boolean {
    return this.loggedIn && this.down === null && this.sdk.socket !== undefined;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn().catch((e: { code?: number; message?: string }) => {
        throw new StatusError(e.code ?? ErrorCode.INVALID_PARAMETER, e.message ?? String(e));
      });
    } catch (e) {
      // The SDK checks parameter types itself and throws at once ("Params validate failed"), with no code.
      return Promise.reject(new StatusError(ErrorCode.INVALID_PARAMETER, `the SDK refused the parameters: ${(e as Error).message}`));
    }
  }

  async login(o: { userID: string; userSig?: string }) {
    const readyBefore = this.sdk.events.filter((e) => e.name === 'sdkStateReady').length;
    const r = await this.call(() => this.sdk.tim.login({ userID: o.userID, userSig: o.userSig }));
    const data = (r as { data: { repeatLogin?: boolean; deviceId?: string } }).data;
    if (!data.repeatLogin) await this.sdk.until(() => this.sdk.events.filter((e) => e.name === 'sdkStateReady').length > readyBefore, 'SDK_READY');
    this.deviceId = data.deviceId ?? '';
    this.loggedIn = true;
    return { data: { repeatLogin: data.repeatLogin === true, userID: o.userID } };
  }

  async logout() {
    await this.call(() => this.sdk.tim.logout());
    this.loggedIn = false;
    return { data: {} as Record<string, never> };
  }

  // The SDK's results have the Client's shapes, without the extension fields (SDK_TRAITS.extensionFields).
  setSelfStatus(o: { customStatus: string }): ReturnType<Client['setSelfStatus']> {
    return this.call(() => this.sdk.tim.setSelfStatus(o));
  }

  getUserStatus(o: { userIDList: string[] }): ReturnType<Client['getUserStatus']> {
    return this.call(() => this.sdk.tim.getUserStatus(o));
  }

  subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }): ReturnType<Client['subscribeUserStatus']> {
    return this.call(() => this.sdk.tim.subscribeUserStatus({ userIDList: o?.userIDList }));
  }

  unsubscribeUserStatus(o?: { userIDList?: string[] }): ReturnType<Client['unsubscribeUserStatus']> {
    return this.call(() => (o === undefined ? this.sdk.tim.unsubscribeUserStatus() : this.sdk.tim.unsubscribeUserStatus(o)));
  }

  setVisibility(): Promise<never> {
    return Promise.reject(new StatusError(ErrorCode.INVALID_PARAMETER, 'setVisibility (EXT-5) has no counterpart in the Web SDK'));
  }

  on<N extends EventName>(event: N, typed: ClientEventHandler<N>): void {
    const handler = typed as unknown as ClientEventHandler;
    const fn = (e: { data: any }) => {
      if (event === EVENT.KICKED_OUT) {
        // The SDK says {type: 'multipleDevice'}: its code is 3002 (TIM.TYPES.KICKED_OUT_MULT_DEVICE).
        handler({ name: EVENT.KICKED_OUT, data: { type: e.data.type, code: ErrorCode.KICKED_OUT, message: `kicked out: ${e.data.type}` } });
      } else if (event === EVENT.NET_STATE_CHANGE) {
        const state = e.data.state === 'connecting' ? 'reconnecting' : e.data.state;
        handler({ name: EVENT.NET_STATE_CHANGE, data: { state } });
      } else {
        handler({ name: event, data: e.data } as Parameters<ClientEventHandler>[0]);
      }
    };
    let byEvent = this.wrapped.get(handler);
    if (!byEvent) this.wrapped.set(handler, (byEvent = new Map()));
    byEvent.set(event, fn);
    this.sdk.tim.on(event, fn);
  }

  off<N extends EventName>(event: N, typed: ClientEventHandler<N>): void {
    const handler = typed as unknown as ClientEventHandler;
    const fn = this.wrapped.get(handler)?.get(event);
    if (!fn) return;
    this.wrapped.get(handler)!.delete(event);
    this.sdk.tim.off(event, fn);
  }

  /** 'link_closed': the socket is cut and stays cut until reconnect(). 'network_lost': it goes mute both ways. */
  disconnect(how: 'link_closed' | 'network_lost' = 'link_closed'): void {
    if (how === 'network_lost') {
      this.sdk.frozen = true;
      this.down = 'lost';
    } else {
      this.down = 'closed';
      this.sdk.cut({ block: true });
    }
  }

  /**
   * The SDK comes back by itself on a new socket and logs in again with its session key; resolves once it
   * has. After a lost network the old socket is left open behind it (as a dead network leaves it), so the
   * server learns of the loss only from the relogin, and what it wrote into the void is resumed (EXT-2).
   */
  async reconnect(): Promise<void> {
    const was = this.down;
    this.down = null;
    const logins = this.logins();
    if (was === 'lost') this.sdk.abandon();
    else if (was === 'closed') this.sdk.unblock();
    if (was !== null && this.loggedIn) await this.awaitRelogin(logins);
    else if (this.loggedIn) await this.sdk.ping();
  }

  private logins(): number {
    return this.sdk.sent.filter((c) => c === 'im_open_status.wslogin').length;
  }

  /** The server (or the network) closed the socket: wait for the SDK to be back and logged in again. */
  async awaitRelogin(loginsBefore: number): Promise<void> {
    await this.sdk.until(() => this.logins() > loginsBefore, 'the SDK to log in again', 15_000);
    await this.sdk.until(() => this.sdk.socket !== undefined, 'an open socket');
    await this.sdk.ping();
  }

  background(): void {} // a web page has no background (DEV-3)
  foreground(): void {}

  async destroy(): Promise<void> {
    this.loggedIn = false;
    await this.sdk.destroy();
  }
}

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
  const ok = async (command: string, body: unknown) => {
    const r = await server.rest(command, body);
    if (r.ActionStatus !== 'OK') throw new Error(`${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
    return r;
  };
  const onOff = (v: boolean | undefined) => (v === undefined ? undefined : v ? 'on' : 'off');
  return sdkTargetOver(sdk === 'tim2' ? 'sdk-serve' : `sdk-serve-${sdk}`, {
    url: server.url.replace(/^http/, 'ws'),
    sdkAppId: SERVE_APP_ID,
    admin: {
      register: async (ids) => void (await ok('im_open_login_svc/multiaccount_import', { Accounts: ids })),
      addFriends: async (u, ids) => void (await ok('sns/friend_add', { From_Account: u, AddFriendItem: ids.map((To_Account) => ({ To_Account })) })),
      removeFriends: async (u, ids) => void (await ok('sns/friend_delete', { From_Account: u, To_Account: ids })),
      configure: async (c) => {
        const body: Record<string, unknown> = {};
        if (c.edition) body.Edition = c.edition;
        if (c.switches) {
          body.Switches = Object.fromEntries(
            Object.entries({ UserStatus: onOff(c.switches.userStatus), FriendStatusNotify: onOff(c.switches.friendStatusNotify) }).filter(([, v]) => v !== undefined),
          );
        }
        if (c.limits) body.Limits = c.limits;
        await ok('im_open_status/config', body);
      },
      queryStatus: async (ids) =>
        ((await ok('openim/query_online_status', { To_Account: ids, IsReturnCustomStatus: 1 })).QueryResult as Array<Record<string, any>>).map((r) => ({
          userID: r.To_Account as string,
          statusType: r.StatusType as number,
          customStatus: r.CustomStatus as string,
        })),
    },
    userSig: (userID) => sig(userID),
    step: async (ms) => void (await ok('test/advance', { Ms: ms })),
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
