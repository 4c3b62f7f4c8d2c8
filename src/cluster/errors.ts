// The cluster layer's error codes and the one helper that makes them. They use the engine's StatusError class
// so a front-end answers them like any other rejection; once wired, the table moves into src/errors.ts.
import { ErrorCode, StatusError } from '../errors';

export const ClusterErrorCode = Object.freeze({
  /** Redis cannot be reached (or refuses writes: loading, disk error): the call was not sent, nothing changed. */
  STORE_UNAVAILABLE: 75001,
  /** The connection broke while the batch was in flight: it may or may not be durable. The writer reads the
   * shard's head again before it writes (ShardWriter.resync); the log, not the caller, then says which. */
  OUTCOME_UNKNOWN: 75002,
  /** The caller's lease token is not the shard's current one: another node owns the shard (fencing). */
  FENCED: 75003,
  /** The batch does not follow the shard's last offset (a gap, or another writer got there first). */
  LOG_CONFLICT: 75004,
  /** The shard's stream was lost (its epoch changed): state built on the old epoch is stale. */
  EPOCH_CHANGED: 75005,
  /** This node does not own the shard of the user (or no node does right now): retry on the owner. */
  NOT_OWNER: ErrorCode.NOT_OWNER,
  /** A forwarded request got no reply in time (the owner died, or PUB/SUB dropped the message). */
  FORWARD_TIMEOUT: 75007,
  /** A read of another node's user that was not fetched before the call (ClusterPort.prepare). */
  NOT_PREPARED: ErrorCode.NOT_PREPARED,
} as const);
export type ClusterErrorCodeValue = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export interface ClusterErrorDetails {
  shard?: number;
  /** FENCED: the token that is current; LOG_CONFLICT: the shard's head; EPOCH_CHANGED: the current epoch. */
  current?: string | number;
}

export class ClusterError extends StatusError {
  readonly shard: number | undefined;
  readonly current: string | number | undefined;

  constructor(code: ClusterErrorCodeValue, message: string, details: ClusterErrorDetails = {}) {
    super(code, message);
    this.name = 'ClusterError';
    this.shard = details.shard;
    this.current = details.current;
  }
}

export const isClusterError = (e: unknown, code?: ClusterErrorCodeValue): e is ClusterError =>
  e instanceof ClusterError && (code === undefined || e.code === code);
