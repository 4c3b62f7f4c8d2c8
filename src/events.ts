// The events a client receives, with the Web SDK's names (CL-1) and the extensions'.
import type { UserStatus } from './records';

export const EVENT = Object.freeze({
  /** NTF-1: data is an array of UserStatus. */
  USER_STATUS_UPDATED: 'onUserStatusUpdated',
  /**
   * DEV-4: data is `{ type: 'multipleDevice', code: 3002, message }`. The remote client also gives
   * `userSigExpired` / `resumeRefused` when the server refuses to let it back in.
   */
  KICKED_OUT: 'kickedOut',
  /** EXT-4: data is `{ userIDList, reason: 'subscription_evicted' | 'subscriptions_cleared' }`. */
  SUBSCRIPTION_ENDED: 'subscriptionEnded',
  /** The client's connection changed: data is `{ state: 'connected' | 'disconnected' | 'reconnecting' }`. */
  NET_STATE_CHANGE: 'netStateChange',
  /**
   * The Web SDK's name for an error the client cannot get past by itself: data is `{ code, message }`. The
   * remote client says it when the server cut it for its request budget (1008) too often and it stopped reconnecting.
   */
  ERROR: 'error',
} as const);
export type EventName = (typeof EVENT)[keyof typeof EVENT];

export type ClientEvent =
  | { name: typeof EVENT.USER_STATUS_UPDATED; data: UserStatus[] }
  | { name: typeof EVENT.KICKED_OUT; data: { type: 'multipleDevice' | 'userSigExpired' | 'resumeRefused'; code: number; message: string } }
  | {
      name: typeof EVENT.SUBSCRIPTION_ENDED;
      data: { userIDList: string[]; reason: 'subscription_evicted' | 'subscriptions_cleared' };
    }
  | { name: typeof EVENT.NET_STATE_CHANGE; data: { state: 'connected' | 'disconnected' | 'reconnecting' } }
  | { name: typeof EVENT.ERROR; data: { code: number; message: string } };
