// The client protocol between `createClient({url})` and `status-engine serve` (docs/protocol.md): JSON text
// frames over one WebSocket at `/ws`. Requests carry ids and get one reply each; pushes carry the journal
// seq of the change (EXT-2), and so does every reply, as the point the device has caught up to.
import type { StatusErrorDetails } from '../errors';
import { z } from 'zod';
import type { ClientEvent } from '../events';
import { PLATFORMS } from '../../machines/spec';

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/ws';

/** The operations a client may ask for; `params` of each is checked by the engine (6017) or below. */
export const OPS = [
  'login',
  'auth',
  'resume',
  'logout',
  'setSelfStatus',
  'getUserStatus',
  'subscribeUserStatus',
  'unsubscribeUserStatus',
  'setVisibility',
  'background',
  'foreground',
  'disconnect',
  'bye',
  'ping',
] as const;
export type Op = (typeof OPS)[number];

/** Client to server. */
export interface RequestFrame {
  id: number;
  op: Op;
  params?: unknown;
}

/** A StatusError on the wire: its code, message and details (src/errors.ts). */
export type WireError = { code: number; message: string } & StatusErrorDetails;

/** Server to client. */
export type ServerFrame =
  | { t: 'hello'; v: number; deviceId: string; seq: number; heartbeatMs: number; serverTime: number; sdkAppId: number }
  | { t: 'res'; id: number; ok: true; data: unknown; seq: number }
  /** `id` is null when the frame could not be read far enough to find it. */
  | { t: 'res'; id: number | null; ok: false; error: WireError; seq: number }
  | { t: 'push'; seq: number; event: ClientEvent };

/** What the first level of a request must look like; the params are the engine's to judge. */
export const requestSchema = z
  .object({
    id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    op: z.string().min(1).max(64),
    params: z.unknown().optional(),
  })
  .strict();

/** EXT-2: what a reconnecting device holds. At most this many versions are taken. */
export const MAX_RESUME_VERSIONS = 100_000;
export const resumeSchema = z
  .object({
    userID: z.unknown(),
    userSig: z.unknown(),
    lastSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    versions: z
      .record(z.string().min(1), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
      .refine((v) => Object.keys(v).length <= MAX_RESUME_VERSIONS, { message: `at most ${MAX_RESUME_VERSIONS} versions` })
      .optional(),
  })
  .strict();

/** A device id names one client across its reconnects: unguessable, printable, bounded. */
export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/);
export const platformSchema = z.enum(PLATFORMS);
