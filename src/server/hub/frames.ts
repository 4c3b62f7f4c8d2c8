// The hub's reading of one client frame (docs/protocol.md): size, JSON, bounds, schema and op, in that order,
// into a request or the error that answers it. Pure: the hub sends what this returns.
import { ErrorCode, type StatusError } from '../../errors';
import { WireCode } from '../../protocol/codes';
import { OPS, requestSchema, type Op, type WireError } from '../../protocol/messages';
import { frameBoundsError } from '../link/bounds';

/** A frame read: a request to serve, or the error to answer (with the frame's id when it could be read). */
export type FrameReading = { ok: true; id: number; op: Op; params: unknown } | { ok: false; id: number | null; error: WireError };

const refused = (id: number | null, error: WireError): FrameReading => ({ ok: false, id, error });

/** A request id as the client sent it, when it is one (a reply to a bad frame still carries it). */
function idOf(raw: unknown): number | null {
  const maybe = (raw as { id?: unknown } | null)?.id;
  return typeof maybe === 'number' && Number.isSafeInteger(maybe) && maybe >= 0 ? maybe : null;
}

export function readFrame(data: Buffer, isBinary: boolean, maxFrameBytes: number): FrameReading {
  if (data.length > maxFrameBytes) {
    return refused(null, {
      code: WireCode.FRAME_TOO_LARGE,
      message: `frame of ${data.length} bytes is over the limit maxFrameBytes = ${maxFrameBytes}`,
      limit: maxFrameBytes,
      limitName: 'maxFrameBytes',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    return refused(null, { code: WireCode.BAD_JSON, message: `the ${isBinary ? 'binary' : 'text'} frame is not JSON` });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return refused(null, { code: WireCode.BAD_JSON, message: 'a frame must be a JSON object {id, op, params}' });
  }
  // The common frame, read without the schema (a ping, a call): what requestSchema accepts, checked by hand;
  // anything else takes the full path below, for its error.
  const fast = plainRequest(raw as Record<string, unknown>);
  if (fast && (fast.params === null || typeof fast.params !== 'object' || frameBoundsError(raw) === null)) {
    if (!(OPS as readonly string[]).includes(fast.op)) {
      return refused(fast.id, { code: WireCode.UNKNOWN_OP, message: `unknown op '${fast.op.slice(0, 64)}'; known: ${OPS.join(', ')}`, param: 'op' });
    }
    return { ok: true, id: fast.id, op: fast.op as Op, params: fast.params };
  }
  const over = frameBoundsError(raw);
  if (over) {
    return refused(null, { code: ErrorCode.INVALID_PARAMETER, message: `invalid frame: ${over.message}`, param: 'frame', limit: over.limit, limitName: over.limitName });
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.map(String).join('.') || 'frame' : 'frame';
    const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
    return refused(idOf(raw), { code: ErrorCode.INVALID_PARAMETER, message: `invalid frame: ${where}: ${what}`, param: where });
  }
  const { id, op, params } = parsed.data;
  if (!(OPS as readonly string[]).includes(op)) {
    return refused(id, { code: WireCode.UNKNOWN_OP, message: `unknown op '${op.slice(0, 64)}'; known: ${OPS.join(', ')}`, param: 'op' });
  }
  return { ok: true, id, op: op as Op, params };
}

/** `raw` as requestSchema would read it, when it has only id, op and params and both are as the schema says. */
function plainRequest(raw: Record<string, unknown>): { id: number; op: string; params: unknown } | null {
  for (const k in raw) if (k !== 'id' && k !== 'op' && k !== 'params') return null;
  const { id, op } = raw;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return null;
  if (typeof op !== 'string' || op.length < 1 || op.length > 64) return null;
  return { id, op, params: raw.params };
}

/** The id of a frame refused unread (over budget): read only when the frame is within size, else null. */
export function refusedFrameId(data: Buffer, maxFrameBytes: number): number | null {
  if (data.length > maxFrameBytes) return null;
  try {
    return idOf(JSON.parse(data.toString('utf8')));
  } catch {
    return null; // not a frame: the error goes with id null
  }
}

/** A StatusError as the wire carries it: the code, the message, and whichever details it has. */
export function toWire(e: StatusError): WireError {
  const out: WireError = { code: e.code, message: e.message };
  for (const k of ['param', 'limit', 'limitName', 'retryAfterMs', 'requests', 'windowMs'] as const) {
    const v = e[k];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
