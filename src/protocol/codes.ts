// Error codes of the wire (the admin REST API and the client protocol) that the engine itself never uses.
// They follow Tencent Cloud IM's server codes where one fits; the engine's own codes live in src/errors.ts
// and pass through unchanged. Codes live here only.

export const WireCode = Object.freeze({
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
  /** REST and client protocol: the body or frame is not a JSON object. */
  BAD_JSON: 90001,
  /** Client protocol: a frame names an operation the protocol does not have. */
  UNKNOWN_OP: 90002,
  /** Client protocol: a frame is over `maxFrameBytes` (it is answered, not read). */
  FRAME_TOO_LARGE: 90003,
  /** Client protocol: the URL asks for a protocol version this server does not speak. */
  UNSUPPORTED_VERSION: 90004,
  /** REST and client protocol: the server failed while handling the call (logged; nothing was acknowledged). */
  INTERNAL: 70500,
  /** Client: the connection to the server was lost before the answer came (the call may have landed). */
  CONNECTION_LOST: 2800,
  /** Client: no answer within the request timeout. */
  REQUEST_TIMEOUT: 2801,
} as const);
export type WireCodeValue = (typeof WireCode)[keyof typeof WireCode];
