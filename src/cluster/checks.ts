// The decisions behind a shard write, shared by the memory backend and mirrored line by line in the Redis
// scripts (redis/scripts.ts): a write passes only with the current token, the current epoch and no gap.
import { ClusterError, ClusterErrorCode } from './errors';
import type { Fence } from './types';

export const MAX_BATCH = 1024;
export const MAX_COMMAND_BYTES = 64 * 1024;

export type WriteVerdict =
  | { ok: true }
  | { ok: false; reason: 'FENCED' | 'EPOCH' | 'CONFLICT'; current: string };

/** The memory backend's copy of the scripts' checks, in the scripts' order. */
export function checkWrite(
  fence: Fence,
  after: number,
  leaseToken: number | undefined,
  meta: { epoch: string; head: number } | undefined,
): WriteVerdict {
  if (leaseToken !== fence.token) return { ok: false, reason: 'FENCED', current: String(leaseToken ?? '') };
  if (meta === undefined || meta.epoch !== fence.epoch) return { ok: false, reason: 'EPOCH', current: meta?.epoch ?? '' };
  if (meta.head !== after) return { ok: false, reason: 'CONFLICT', current: String(meta.head) };
  return { ok: true };
}

/** The error a refused write throws, whichever backend refused it. */
export function refusal(shard: number, fence: Fence, after: number, v: Exclude<WriteVerdict, { ok: true }>): ClusterError {
  switch (v.reason) {
    case 'FENCED':
      return new ClusterError(
        ClusterErrorCode.FENCED,
        `shard ${shard}: lease token ${fence.token} is not current (current: ${v.current || 'none'}); another node owns the shard`,
        { shard, current: v.current },
      );
    case 'EPOCH':
      return new ClusterError(
        ClusterErrorCode.EPOCH_CHANGED,
        `shard ${shard}: epoch ${fence.epoch} is gone (current: ${v.current || 'none'}); the shard's history was lost, reopen it`,
        { shard, current: v.current },
      );
    case 'CONFLICT':
      return new ClusterError(
        ClusterErrorCode.LOG_CONFLICT,
        `shard ${shard}: the batch follows offset ${after} but the log's head is ${v.current}`,
        { shard, current: Number(v.current) },
      );
  }
}

/** Bad input from the caller (a bug in the wiring, never a client's frame): refused before any I/O. */
export function checkBatch(shard: number, after: number, commands: readonly string[]): void {
  if (!Number.isInteger(shard) || shard < 0) throw new RangeError(`invalid parameter shard: a non-negative integer, got ${shard}`);
  if (!Number.isInteger(after) || after < 0) throw new RangeError(`invalid parameter after: a non-negative integer, got ${after}`);
  if (commands.length === 0 || commands.length > MAX_BATCH) {
    throw new RangeError(`invalid parameter commands: 1 to ${MAX_BATCH} commands per batch, got ${commands.length}`);
  }
  for (const c of commands) {
    if (typeof c !== 'string' || Buffer.byteLength(c) > MAX_COMMAND_BYTES) {
      throw new RangeError(`invalid parameter commands: each a string of at most ${MAX_COMMAND_BYTES} bytes`);
    }
  }
}
