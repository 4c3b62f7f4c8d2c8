// The error table of SPEC.md section 10, and the one class every rejection uses. Codes live here only.

export const ErrorCode = Object.freeze({
  /** GATE-3: the console switch `userStatus` is off. */
  SWITCH_OFF: 72001,
  /** GATE-2: the edition lacks the feature. */
  EDITION_LACKS_FEATURE: 3122,
  /** LIM-1: rate limit exceeded; the error carries `retryAfterMs` (EXT-6). */
  RATE_LIMITED: 2996,
  /** The client is not logged in. */
  NOT_LOGGED_IN: 2024,
  /** Per entry (GET-5, SUB-4), or at login: the userID is not registered. */
  USER_NOT_FOUND: 70107,
  /** Invalid parameter: the message names the parameter and the limit. */
  INVALID_PARAMETER: 6017,
  /** DEV-4: kicked out by a newer login on the same platform. */
  KICKED_OUT: 3002,
  /** The device is logged in but not connected (background or network lost): reconnect first. Over the
   * network, the same code says the connection to the server was lost before the answer came. */
  NOT_CONNECTED: 2800,
  /** Client: no answer within the request timeout (the Web SDK's code). */
  REQUEST_TIMEOUT: 2801,
  /** The engine was closed. */
  ENGINE_CLOSED: 2803,
  /** The engine does not own this user (engines side by side, each owning part of the users): call its owner. */
  NOT_OWNER: 75006,
  /** A cluster node: the call reads a user of another node's shard that the front-end did not fetch first
   * (`ClusterPort.prepare`), or whose fetched facts ran out: prepare, then call again. */
  NOT_PREPARED: 75008,
  /** UserSig refused: expired. */
  USERSIG_EXPIRED: 70001,
  /** UserSig refused: missing, malformed or forged. */
  USERSIG_INVALID: 70003,
  /** UserSig refused: made for another userID. */
  USERSIG_USER_MISMATCH: 70013,
  /** UserSig refused: made for another SDKAppID. */
  USERSIG_APP_MISMATCH: 70014,

  // The wire (admin REST and the client protocol); Tencent Cloud IM's server codes where one fits.
  /** REST: the request is not HTTP we can read, e.g. the body is over `bodyLimit` bytes. */
  HTTP_UNREADABLE: 60002,
  /** REST: no such `<service>/<command>` (or the test endpoints without `--clock simulated`). */
  UNKNOWN_COMMAND: 60009,
  /** REST: the `sdkappid` of the URL is missing or is not this server's SDKAppID. */
  SDKAPPID_NOT_FOUND: 70020,
  /** REST: a body field is missing or of the wrong type or size; the message names the field. */
  INVALID_BODY: 70402,
  /** REST: the `identifier` of the URL is not the app administrator. */
  NOT_ADMIN: 70403,
  /** REST and client protocol: the server failed while handling the call (logged; nothing was acknowledged). */
  INTERNAL: 70500,
  /** REST and client protocol: the body or frame is not a JSON object. */
  BAD_JSON: 90001,
  /** Client protocol: a frame names an operation the protocol does not have. */
  UNKNOWN_OP: 90002,
  /** Client protocol: a frame is over `maxFrameBytes` (it is answered, not read). */
  FRAME_TOO_LARGE: 90003,
  /** Client protocol: the URL asks for a protocol version this server does not speak. */
  UNSUPPORTED_VERSION: 90004,
} as const);
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface StatusErrorDetails {
  /** The parameter that broke a rule (6017). */
  param?: string;
  /** The limit it broke, and the limit's option name. */
  limit?: number;
  limitName?: string;
  /** EXT-6: on 2996, when to retry and the window's numbers. */
  retryAfterMs?: number;
  requests?: number;
  windowMs?: number;
}

/** The class of every rejection: `{code, message}` plus, where they apply, the details above. */
// The details' fields come from this interface (declaration merging), and are set only when they apply.
export interface StatusError extends StatusErrorDetails {}
export class StatusError extends Error {
  readonly code: number;

  constructor(code: number, message: string, details: StatusErrorDetails = {}) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    for (const [k, v] of Object.entries(details)) if (v !== undefined) (this as Record<string, unknown>)[k] = v;
  }

  toJSON(): Record<string, unknown> {
    return { ...(this as object), code: this.code, message: this.message };
  }
}

export const invalidParameter = (param: string, message: string, details: StatusErrorDetails = {}): StatusError =>
  new StatusError(ErrorCode.INVALID_PARAMETER, `invalid parameter ${param}: ${message}`, { param, ...details });

export const notLoggedIn = (): StatusError =>
  new StatusError(ErrorCode.NOT_LOGGED_IN, 'not logged in: call login() first');
