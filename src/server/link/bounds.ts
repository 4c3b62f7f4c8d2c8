// Limits every parsed frame meets before any front-end reads it: how deep its values nest, and what a
// request id (the client protocol's `id`, the Web SDK's `head.seq`) may be, since replies echo it.
// Pure functions; the shared link lifecycle (./lifecycle.ts) and the REST routes apply them.

/**
 * Deepest nesting of arrays and objects a frame or body may have. The protocols need 4 (a TIM frame's
 * `body.To_Account[]`, a REST `AddFriendItem[].To_Account`); JSON.parse takes thousands, and then
 * JSON.stringify or String() of an echoed value overflows the stack. 32 leaves room for clients' extras.
 */
export const MAX_NESTING_DEPTH = 32;

/** A string request id (the SDK's seq is a number, some clients send strings) is echoed only up to this. */
export const MAX_SEQ_CHARS = 64;

/**
 * The first depth over `max` found in `value`, or null when it fits. Iterative (an explicit stack), so a
 * 100,000-deep array is measured without recursion; it stops at the first level over the limit.
 */
export function nestingOver(value: unknown, max = MAX_NESTING_DEPTH): number | null {
  if (value === null || typeof value !== 'object') return null;
  const stack: Array<{ v: object; depth: number }> = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (depth > max) return depth;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push({ v: c, depth: depth + 1 });
  }
  return null;
}

/** A request id a reply may carry back: a finite number, or a short string. Anything else is refused. */
export function isEchoableSeq(seq: unknown): seq is number | string {
  if (typeof seq === 'number') return Number.isFinite(seq);
  return typeof seq === 'string' && seq.length <= MAX_SEQ_CHARS;
}

/** Why a parsed frame is refused, as a message naming the parameter and the limit; null when it is fine. */
export function frameBoundsError(value: unknown, max = MAX_NESTING_DEPTH): { message: string; limit: number; limitName: string } | null {
  const over = nestingOver(value, max);
  if (over !== null) return { message: `the frame nests deeper than the limit maxNestingDepth = ${max}`, limit: max, limitName: 'maxNestingDepth' };
  return null;
}

/** A WebSocket close reason is at most 123 bytes of UTF-8 (ws throws past it): cut on a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= 123) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > 120) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}
