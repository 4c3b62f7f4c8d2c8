// The Web SDK's wire format (shared/spec/TIM-WIRE.md): frames, command names, and the translations between
// the engine's shapes and the SDK's. Pure functions and constants; the gateway (src/server/timGateway.ts) does the I/O.
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { editionHasUserStatus } from '../../../machines/access';
import { PLATFORMS, type Edition, type Platform } from '../../../machines/spec';
import { ErrorCode } from '../../errors';
import type { Failure, UserStatus } from '../../types';

/** servcmd values the gateway serves itself, or pushes. What the SDK asks at boot is answered in boot.ts. */
export const CMD = Object.freeze({
  LOGIN: 'im_open_status.wslogin',
  LOGOUT: 'im_open_status.wslogout',
  HELLO: 'im_open_status.wshello',
  ALIVE: 'heartbeat.alive',
  SET_CUSTOM_STATUS: 'im_open_status.ws_set_custom_status',
  GET_USER_STATUS: 'im_open_status.ws_get_user_status',
  SUBSCRIBE: 'im_open_status.ws_status_subscribe',
  UNSUBSCRIBE: 'im_open_status.ws_status_unsubscribe',
  /** The SDK's answer to a push that carried NeedAck: 1, echoing its SessionData. */
  PUSH_ACK: 'openim.ws_msg_push_ack',
  // Pushes (server to SDK).
  PUSH_MSG: 'im_open_push.msg_push',
  PUSH_PURCHASE_BITS: 'im_sdk_config_mgr.push_imsdk_purchase_bitsv2',
  /** The SDK reads `C2cNotifyMsgArray[].KickoutMsgNotify` from this push; KickType 2 is "another device of the same platform". */
  PUSH_FORCE_OFFLINE: 'im_open_status.stat_forceoffline',
} as const);

/** The codes the gateway answers with beyond the engine's own refusals (numbers from src/errors.ts). */
export const SDK_CODE = Object.freeze({
  /** The SDK's ACCOUNT_A2KEY_EXPIRED (= USERSIG_EXPIRED): on a relogin it makes the SDK report `userSigExpired`. */
  SESSION_KEY_EXPIRED: ErrorCode.USERSIG_EXPIRED,
  /** A request the gateway could not handle (a bug, logged). */
  INTERNAL: ErrorCode.INTERNAL,
} as const);

/** KickoutMsgNotify.KickType: 1 another account, 2 another device of the platform (DEV-4), 3 REST kick. */
export const KICK_TYPE_MULTIPLE_DEVICE = 2;
/** The server kicked the device out (the SDK emits KICKED_OUT {type: 'REST_API_Kick'} and stops). */
export const KICK_TYPE_REST_API = 3;

/** The push `Event` number for status changes. The SDK routes on the `UserStatusList` key, not on this. */
export const EVENT_USER_STATUS = 7;

/** The body of a PUSH_FORCE_OFFLINE push: the SDK is kicked out, by `kickType`. */
export const kickOutBody = (kickType: number): unknown => ({
  EventArray: [{ Event: EVENT_USER_STATUS, C2cNotifyMsgArray: [{ KickoutMsgNotify: { KickType: kickType, NewInstInfo: {} } }] }],
});

/** The edition as the SDK's purchase bits: feature bit 7 (rightmost character is bit 0) is user status. */
export const USER_STATUS_FEATURE_BIT = 7;

export function purchaseBits(edition: Edition): string {
  const bits = Array<string>(USER_STATUS_FEATURE_BIT + 1).fill('0');
  if (editionHasUserStatus(edition)) bits[0] = '1'; // leftmost character = the highest bit = bit 7
  return bits.join('');
}

/**
 * The SDK's cloud config with its telemetry switched off: both reporters skip an SDKAppID on their
 * block list, so nothing is uploaded to the gateway (or anywhere else).
 */
export function cloudConfig(sdkAppId: number): string {
  return JSON.stringify({ evt_rpt_sdkappid_bl: String(sdkAppId), q_rpt_sdkappid_bl: String(sdkAppId) });
}

export interface WireHead {
  servcmd: string;
  seq?: number;
  identifier?: string;
  usersig?: string;
  a2?: string;
  tinyid?: string | number;
  sdkappid?: number | string;
  platform?: number;
  [key: string]: unknown;
}

export interface WireFrame {
  head: WireHead;
  body: Record<string, unknown>;
}

export class WireError extends Error {
  /**
   * A COMP frame inflating past `inflatesOver` bytes: too large, not bad. `limitName` says which bound: the
   * receiver's frame limit, or MAX_INFLATE_RATIO times the frame's own size.
   */
  constructor(
    message: string,
    readonly inflatesOver?: number,
    readonly limitName?: 'maxInflateRatio' | 'frameBytes',
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const COMP = Buffer.from('COMP');

/** An uplink frame, from a binary (`/binfo`) or text (`/info`) message. Throws WireError on anything else. */
/** `maxInflated`: a COMP frame is as large as what it inflates to (a small frame must not pass a size cap). */
export function decodeFrame(data: Buffer | string, maxInflated = MAX_INFLATED_BYTES): WireFrame {
  return parseFrame(uplinkText(data, maxInflated), data.length);
}

/** Whether a binary message is a compressed frame (`COMP` and gzip or zlib data). */
export const isCompressed = (data: Buffer): boolean => data.length >= 4 && data[0] === 0x43 && data.subarray(0, 4).equals(COMP);

/**
 * An uplink message as the JSON text it carries: a COMP frame inflated, to at most `maxInflated` bytes and
 * at most MAX_INFLATE_RATIO times its own size (else WireError with `inflatesOver` and `limitName`).
 */
export function uplinkText(data: Buffer | string, maxInflated = MAX_INFLATED_BYTES): string {
  if (typeof data === 'string') return data;
  if (!isCompressed(data)) return data.toString('utf8');
  const byFrame = Math.min(maxInflated, MAX_INFLATED_BYTES);
  const byRatio = data.length * MAX_INFLATE_RATIO;
  return inflate(data.subarray(4), Math.min(byRatio, byFrame), byRatio < byFrame ? 'maxInflateRatio' : 'frameBytes').toString('utf8');
}

/** A frame's JSON text (`bytes`: the message's size, for the error) as head and body. Throws WireError. */
export function parseFrame(text: string, bytes = text.length): WireFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WireError(`not JSON (${bytes} bytes)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new WireError('a frame must be a JSON object');
  const { head, body } = parsed as { head?: unknown; body?: unknown };
  if (head === null || typeof head !== 'object' || Array.isArray(head)) throw new WireError('the frame has no head object');
  const servcmd = (head as { servcmd?: unknown }).servcmd;
  if (typeof servcmd !== 'string' || servcmd.length === 0) throw new WireError('head.servcmd is missing');
  const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { head: head as WireHead, body: b };
}

/** A compressed uplink frame may inflate to at most this: a small frame must not become a huge one (zip bomb). */
export const MAX_INFLATED_BYTES = 1024 * 1024;

/**
 * ... and to at most this many times its own size. JSON requests compress 3-10 times; deflate reaches about
 * 1,000 on repetitive text, and without this bound a 70-byte frame would be 64 KiB of JSON to parse (red team,
 * session 17). 32 leaves honest frames far from it and makes sending compressed frames cost the sender a
 * thirty-second of what sending them plain would.
 */
export const MAX_INFLATE_RATIO = 32;

function inflate(data: Buffer, max: number, limitName: 'maxInflateRatio' | 'frameBytes'): Buffer {
  const opts = { maxOutputLength: max };
  try {
    return data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data, opts) : inflateSync(data, opts);
  } catch (e) {
    if (e instanceof RangeError) {
      const why = limitName === 'maxInflateRatio' ? `${MAX_INFLATE_RATIO} times its own size (maxInflateRatio), ${max} bytes` : `${max} bytes`;
      throw new WireError(`COMP frame that inflates to more than ${why}`, max, limitName);
    }
    throw new WireError('COMP frame that does not inflate');
  }
}

/** Frames at least this long are gzipped when the SDK asked for it (`compress=gzip` in the URL). */
export const COMPRESS_MIN_BYTES = 1024;

/** A downlink frame: binary JSON on `/binfo` (gzipped behind `COMP` when asked and worth it), text on `/info`. */
export function encodeFrame(frame: unknown, opts: { binary: boolean; compress: boolean }): Buffer | string {
  return encodeFrameText(JSON.stringify(frame), opts);
}

/** A downlink frame from its JSON text (a push assembled from a body encoded once for all its recipients). */
export function encodeFrameText(text: string, opts: { binary: boolean; compress: boolean }): Buffer | string {
  if (!opts.binary) return text;
  const raw = Buffer.from(text, 'utf8');
  if (!opts.compress || raw.length < COMPRESS_MIN_BYTES) return raw;
  return Buffer.concat([COMP, gzipSync(raw)]);
}

/** The SDK base64-decodes (UTF-8) every CustomStatus it receives. */
export const toBase64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export interface WireStatus {
  To_Account: string;
  Status: number;
  CustomStatus: string;
}

export const wireStatus = (s: UserStatus): WireStatus => ({
  To_Account: s.userID,
  Status: s.statusType,
  CustomStatus: toBase64(s.customStatus),
});

export const wireFailure = (f: Failure): { To_Account: string; ErrorCode: number; ErrorInfo: string } => ({
  To_Account: f.userID,
  ErrorCode: f.code,
  ErrorInfo: f.message,
});

export const errorBody = (code: number, message: string): { ErrorCode: number; ErrorInfo: string } => ({
  ErrorCode: code,
  ErrorInfo: message,
});

/** The SDK's numeric platform for a web page (the URL's `platform`). */
export const WEB_PLATFORM_NUMBER = 7;

/**
 * The device's platform from the socket URL's `platform` (or, failing that, wslogin's `InstType`): 7 is
 * the web SDK. A platform name (`android`, ...) is accepted too, for test clients that speak the wire
 * protocol as a native app would. Anything else is web, and `known` says so.
 */
export function platformOf(urlPlatform: string | null, instType?: unknown): { platform: Platform; known: boolean } {
  for (const v of [urlPlatform, instType]) {
    if (v === null || v === undefined || v === '' || v === 0 || v === '0') continue;
    if (typeof v !== 'string' && typeof v !== 'number') return { platform: 'web', known: false }; // String() throws on some objects
    if (String(v) === String(WEB_PLATFORM_NUMBER)) return { platform: 'web', known: true };
    if ((PLATFORMS as readonly string[]).includes(String(v))) return { platform: String(v) as Platform, known: true };
    return { platform: 'web', known: false };
  }
  return { platform: 'web', known: true };
}
