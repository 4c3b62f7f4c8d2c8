// The client API of shared/spec/API.md: the Web SDK's method names and result shapes (CL-1).
import type { ClientEvent } from '../events';
import type { Failure, Platform, UserStatus, Visibility } from '../types';
import type { RemoteClientOptions } from './remote';

export type ClientEventHandler = (event: ClientEvent) => void;

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
  on(event: string, handler: ClientEventHandler): void;
  off(event: string, handler: ClientEventHandler): void;
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
