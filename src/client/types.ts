// The client API of shared/spec/API.md: the Web SDK's method names and result shapes (CL-1).
import type { ClientEvent, EventName } from '../events';
import type { Failure, Platform, UserStatus, Visibility } from '../types';
import type { RemoteClientOptions } from './remote';

/** The event of one name: `ClientEventOf<'onUserStatusUpdated'>` is `{ name; data: UserStatus[] }`. */
export type ClientEventOf<N extends EventName> = Extract<ClientEvent, { name: N }>;
/** A handler of the events named N (all of them by default); `on`/`off` infer N from the name given. */
export type ClientEventHandler<N extends EventName = EventName> = (event: ClientEventOf<N>) => void;

export interface Client {
  /** The device this client is, as the engine knows it (EXT-9 detail, DEV-4 kicks). */
  readonly deviceId: string;
  login(o: { userID: string; userSig?: string }): Promise<{ data: { repeatLogin: boolean; userID: string } }>;
  logout(): Promise<{ data: Record<string, never> }>;
  setSelfStatus(o: { customStatus: string }): Promise<{ data: UserStatus }>;
  getUserStatus(o: { userIDList: string[] }): Promise<{ data: { successUserList: UserStatus[]; failureUserList: Failure[] } }>;
  /** `pushCurrent` (EXT-2): this device receives the current status of each new subscription at once. */
  subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }): Promise<{ data: { failureUserList: Failure[] } }>;
  unsubscribeUserStatus(o?: { userIDList?: string[] }): Promise<{ data: { failureUserList: Failure[] } }>;
  /** EXT-5: who may see this user's status. */
  setVisibility(visibility: Visibility): Promise<{ data: UserStatus }>;
  /** `on(EVENT.USER_STATUS_UPDATED, ({ data }) => ...)`: data is UserStatus[]; an unknown name does not compile. */
  on<N extends EventName>(event: N, handler: ClientEventHandler<N>): void;
  off<N extends EventName>(event: N, handler: ClientEventHandler<N>): void;
  /** DEV-1: 'link_closed' (default) drops the link at once; 'network_lost' stops heartbeats, so the timeouts apply. */
  disconnect(how?: 'link_closed' | 'network_lost'): void;
  /** DEV-1 + EXT-2: restore the session, then receive once each status that moved while away. */
  reconnect(): Promise<void>;
  background(): void;
  foreground(): void;
  /** Detach from the engine or server for good (a logged-in device counts as a closed link). */
  destroy(): Promise<void>;
}

export type ClientOptions = { engine: unknown; platform?: Platform } | RemoteClientOptions;
