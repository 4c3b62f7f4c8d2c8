// Parameter checks for the client calls (error 6017). Each message names the parameter and, where one
// applies, the limit and its option name. Nothing here changes state.
import { invalidParameter } from '../errors';
import { PLATFORMS, utf8Length, type Platform } from '../../machines/spec';

/** How a bad value is named in a message: never by calling into the value (it may be any object at all). */
export const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'string'
        ? `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`
        : typeof v === 'number' || typeof v === 'boolean'
          ? `${typeof v} ${v}`
          : typeof v;

/** A list of userIDs: an array of non-empty strings, at most `max` distinct ones. Returns them deduplicated, in first-seen order. */
export function userIDList(
  value: unknown,
  opts: { param?: string; max: number; limitName: string; allowEmpty?: boolean },
): string[] {
  const param = opts.param ?? 'userIDList';
  if (!Array.isArray(value)) throw invalidParameter(param, `expected an array of userIDs, got ${describe(value)}`);
  const seen = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    // Index access, not iteration helpers: a hole in a sparse array is a bad entry, not nothing.
    const id: unknown = value[i];
    if (typeof id !== 'string' || id.length === 0) {
      throw invalidParameter(`${param}[${i}]`, `expected a non-empty string userID, got ${describe(id)}`);
    }
    wellFormed(id, `${param}[${i}]`);
    seen.add(id);
  }
  if (seen.size === 0 && !opts.allowEmpty) throw invalidParameter(param, 'the list is empty');
  if (seen.size > opts.max) {
    throw invalidParameter(
      param,
      `${seen.size} distinct userIDs is over the limit ${opts.limitName} = ${opts.max}`,
      { limit: opts.max, limitName: opts.limitName },
    );
  }
  return [...seen];
}

export function userID(value: unknown, param = 'userID'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidParameter(param, `expected a non-empty string, got ${describe(value)}`);
  }
  return wellFormed(value, param);
}

/** A surrogate without its pair (code units, no `u` flag): text with one has no UTF-8 form. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Where `text` has a lone surrogate (JSON's "\ud800" carries one), or -1 when it is well-formed. */
export const loneSurrogateAt = (text: string): number => text.search(LONE_SURROGATE);

/**
 * A userID must be well-formed UTF-16: a lone surrogate has no UTF-8 form, so a SQLite store could not
 * keep it (it read back as U+FFFD: the user lost, two users made one).
 */
function wellFormed(value: string, param: string): string {
  const at = loneSurrogateAt(value);
  if (at < 0) return value;
  throw invalidParameter(param, `expected well-formed text: a lone surrogate at index ${at} (a userID is stored as UTF-8)`);
}

/** CS-6: a string of at most `maxBytes` bytes of UTF-8. */
export function customStatus(value: unknown, maxBytes: number): string {
  if (typeof value !== 'string') throw invalidParameter('customStatus', `expected a string, got ${describe(value)}`);
  const bytes = utf8Length(value);
  if (bytes > maxBytes) {
    throw invalidParameter(
      'customStatus',
      `${bytes} bytes of UTF-8 is over the limit customStatusMaxBytes = ${maxBytes}`,
      { limit: maxBytes, limitName: 'customStatusMaxBytes' },
    );
  }
  return value;
}

export function platform(value: unknown): Platform {
  if (value === undefined) return 'web';
  if (typeof value !== 'string' || !(PLATFORMS as readonly string[]).includes(value)) {
    throw invalidParameter('platform', `expected one of ${PLATFORMS.join(', ')}, got ${describe(value)}`);
  }
  return value as Platform;
}

/** The options object of a call: undefined is allowed only where the call says so. */
export function options(value: unknown, call: string, optional = false): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParameter('options', `${call} expects an options object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Options of journal(): `fromSeq` and `limit` are whole numbers of 0 or more. */
export function journalOptions(value: unknown): { fromSeq?: number; limit?: number } {
  const o = options(value, 'journal', true);
  for (const key of ['fromSeq', 'limit'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      throw invalidParameter(key, `expected a whole number of 0 or more, got ${describe(v)}`);
    }
  }
  return o as { fromSeq?: number; limit?: number };
}
