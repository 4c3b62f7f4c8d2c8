// The compact bus form of pushes: one JSON array, the pushes of one (shard, chain) run written once as
// [shard, chain, count, then prev, offset, body per push], and a status change's body as a flat tuple
// instead of objects with their keys (no key names to write and parse, one object per status built on the
// way in). A body of any other shape goes as it is. Bad input gives undefined: the whole message is dropped
// (the receiver finds the hole at the next push and fills or resyncs it).
import { EVENT, type ClientEvent } from '../events';
import type { UserStatus } from '../records';
import type { Push } from './messages';

/** A delivery leaving an owner for another node's recipients (runtime.ts): one user (or one device of it), or many. */
export type PushBody = { u: string; e: ClientEvent; s: number; d?: string } | { us: string[]; e: ClientEvent; s: number } | ChainStart;
/**
 * The first push of a new engine instance's chain for its shard, sent to every other node when it takes the shard
 * (runtime.acquired): it carries nothing, but a node that followed the old owner's chain sees a new one begin and
 * resyncs the devices that hear of the shard. Without it, pushes lost with the old owner (a change that landed in the
 * log as it died or froze, before its pushes left) were found only at the new chain's first real push to that node,
 * which may never come: a view stale for good.
 */
export type ChainStart = { start: 1 };

const TAG = 'P';
/** Body kinds: a status event for many users, for one user (with or without a device), anything else as is. */
const MANY = 1;
const ONE = 2;
const OTHER = 0;

export function encodePushes(list: readonly Push[]): string {
  const out: unknown[] = [TAG];
  let run = -1; // index of the current run's count
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (run < 0 || out[run - 2] !== p.shard || out[run - 1] !== p.epoch) {
      out.push(p.shard, p.epoch, 0);
      run = out.length - 1;
    }
    (out[run] as number)++;
    out.push(p.prev, p.offset, encodeBody(p.body));
  }
  return JSON.stringify(out);
}

/** The pushes of a compact message, or undefined if any part of it is not what encodePushes writes. */
export function decodePushes(raw: string): Push[] | undefined {
  let a: unknown;
  try {
    a = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(a) || a[0] !== TAG) return undefined;
  const list: Push[] = [];
  let i = 1;
  while (i < a.length) {
    const shard = a[i];
    const epoch = a[i + 1];
    const n = a[i + 2];
    if (!isInt(shard) || typeof epoch !== 'string' || !isInt(n) || n < 1 || i + 3 + 3 * n > a.length) return undefined;
    i += 3;
    for (let k = 0; k < n; k++, i += 3) {
      const prev = a[i];
      const offset = a[i + 1];
      if (!isInt(prev) || !isInt(offset)) return undefined;
      const body = decodeBody(a[i + 2]);
      if (body === undefined) return undefined;
      list.push({ t: 'push', shard, epoch, prev, offset, body: body.v });
    }
  }
  return list.length > 0 ? list : undefined;
}

function encodeBody(b: unknown): unknown[] {
  const x = b as Partial<Record<'u' | 'us' | 'e' | 's' | 'd', unknown>> | null;
  if (x === null || typeof x !== 'object' || !isInt(x.s)) return [OTHER, b];
  const e = x.e as ClientEvent | undefined;
  if (e === undefined || e === null || e.name !== EVENT.USER_STATUS_UPDATED || !Array.isArray(e.data) || keyCount(e) !== 2) return [OTHER, b];
  let out: unknown[];
  if (Array.isArray(x.us) && x.u === undefined && x.d === undefined && keyCount(x) === 3) out = [MANY, x.s, x.us];
  else if (typeof x.u === 'string' && x.us === undefined && (x.d === undefined ? keyCount(x) === 3 : typeof x.d === 'string' && keyCount(x) === 4)) out = [ONE, x.s, x.u, x.d ?? null];
  else return [OTHER, b];
  for (const st of e.data) {
    // Exactly a UserStatus, or the body goes as it is (nothing of it is dropped on the way).
    if (!isStatus(st)) return [OTHER, b];
    out.push(st.userID, st.statusType, st.customStatus, st.version, st.reason);
  }
  return out;
}

function decodeBody(a: unknown): { v: unknown } | undefined {
  if (!Array.isArray(a)) return undefined;
  const kind = a[0];
  if (kind === OTHER) return a.length === 2 ? { v: a[1] } : undefined;
  const s = a[1];
  if (!isInt(s)) return undefined;
  let at: number;
  let body: PushBody;
  const data: UserStatus[] = [];
  const e: ClientEvent = { name: EVENT.USER_STATUS_UPDATED, data };
  if (kind === MANY) {
    const us = a[2];
    if (!Array.isArray(us) || !us.every((u) => typeof u === 'string')) return undefined;
    body = { us, e, s };
    at = 3;
  } else if (kind === ONE) {
    const u = a[2];
    const d = a[3];
    if (typeof u !== 'string' || (d !== null && typeof d !== 'string')) return undefined;
    body = d === null ? { u, e, s } : { u, e, s, d };
    at = 4;
  } else return undefined;
  if ((a.length - at) % 5 !== 0) return undefined;
  for (; at < a.length; at += 5) {
    const userID = a[at];
    const statusType = a[at + 1];
    const customStatus = a[at + 2];
    const version = a[at + 3];
    const reason = a[at + 4];
    if (typeof userID !== 'string' || !isInt(statusType) || typeof customStatus !== 'string' || !isInt(version) || typeof reason !== 'string') return undefined;
    data.push({ userID, statusType: statusType as UserStatus['statusType'], customStatus, version, reason: reason as UserStatus['reason'] });
  }
  return { v: body };
}

const isInt = (v: unknown): v is number => Number.isInteger(v);

function isStatus(v: unknown): v is UserStatus {
  const st = v as Partial<Record<keyof UserStatus, unknown>> | null;
  return (
    st !== null &&
    typeof st === 'object' &&
    typeof st.userID === 'string' &&
    isInt(st.statusType) &&
    typeof st.customStatus === 'string' &&
    isInt(st.version) &&
    typeof st.reason === 'string' &&
    keyCount(st) === 5
  );
}

/** Own enumerable keys, without making an array of them. */
function keyCount(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}
