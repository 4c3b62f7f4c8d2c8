// The server's defaults, in a module of their own so that the CLI can show them in --help without loading
// the server.

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  sdkAppId: 1_400_000_000,
  heartbeatMs: 10_000,
  maxFrameBytes: 64 * 1024,
  maxPayloadBytes: 1024 * 1024,
  bodyLimit: 4 * 1024 * 1024,
  retentionMs: 10 * 60_000,
  /** HTTP: a request's headers must arrive within this, and the whole request (body too) within requestTimeoutMs. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  /** Unsent bytes: per socket (a client past it is cut), and for all sockets together. */
  maxBufferedBytes: 1024 * 1024,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
