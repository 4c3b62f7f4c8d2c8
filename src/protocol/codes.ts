// The wire's error codes are part of the one error table in src/errors.ts; this name stays for the server's
// and the remote client's imports.
import { ErrorCode } from '../errors';

export const WireCode = Object.freeze({
  ...ErrorCode,
  /** Client: the connection to the server was lost before the answer came (the call may have landed). */
  CONNECTION_LOST: ErrorCode.NOT_CONNECTED,
} as const);
export type WireCodeValue = (typeof WireCode)[keyof typeof WireCode];
