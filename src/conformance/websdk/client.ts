// A Web SDK instance (TIM / TencentCloudChat) made to look like a Client: calls go through the SDK's own
// API, only time and the network are ours. The SDK's results have the Client's shapes, without the
// extension fields (no version or reason), and the SDK answers a kicked-out device's calls itself (3002).
import type { Client, ClientEventHandler } from '../../client/types';
import { ErrorCode, StatusError } from '../../errors';
import { EVENT, type EventName } from '../../events';
import type { SdkDevice } from './node';

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
        throw new StatusError(e.code ?? ErrorCode.INVALID_PARAMETER, e.message || `the SDK failed with code ${e.code ?? '?'} and no message`);
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
