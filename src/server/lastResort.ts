// The process's last line of defence (`serve` installs it): an error no front-end caught is logged, and the
// server keeps serving when that is safe, or exits cleanly (closing the store, which keeps everything
// acknowledged) when it is not. Which is which is `verdict`, a pure function; docs/server.md lists it.
import type { EventEmitter } from 'node:events';

export type Verdict = 'serve' | 'exit';

/** More uncaught errors than this within a minute is a loop, not an accident: the process exits. */
export const MAX_UNCAUGHT_PER_MINUTE = 10;

const codeOf = (e: unknown): string =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';

/**
 * Keep serving after an error nobody caught, or exit? Every command runs in a store transaction that
 * rolls back (memory too) when it throws, so a stray error in a callback leaves state as it was: keep
 * serving. Exit when the store itself is unsound (corrupt, I/O errors, closed: a full disk is not, its
 * writes fail and roll back), when memory ran out, or when errors come in a storm.
 */
export function verdict(err: unknown, kind: 'uncaughtException' | 'unhandledRejection', recentCount: number): Verdict {
  const code = codeOf(err);
  if (/^SQLITE_(CORRUPT|NOTADB|IOERR|CANTOPEN|READONLY|MISUSE)/.test(code)) return 'exit';
  if (code === 'ERR_STORE_CLOSED' || code === 'ERR_STORE_CORRUPT' || code === 'ERR_OUT_OF_MEMORY') return 'exit';
  if (err instanceof RangeError && /allocation failed|out of memory/i.test(err.message)) return 'exit';
  if (kind === 'uncaughtException' && recentCount > MAX_UNCAUGHT_PER_MINUTE) return 'exit';
  return 'serve';
}

export interface LastResortOptions {
  log: { error(obj: unknown, msg?: string): void; fatal(obj: unknown, msg?: string): void };
  /** Closes the server: sockets, engine, store (the store is synchronous: what was acknowledged is on disk). */
  shutdown(): Promise<void>;
  /** Real time, for the storm count. */
  now?: () => number;
  exit?: (code: number) => void;
  /** The process, or a stand-in for tests. */
  proc?: Pick<EventEmitter, 'on' | 'off'>;
  /** A clean exit that takes longer than this (real ms) becomes an immediate one. */
  exitGraceMs?: number;
}

/** Exit code of a process that stopped itself after an error it could not serve past. */
export const EXIT_UNSAFE = 70;

export function installLastResort(o: LastResortOptions): () => void {
  const proc = o.proc ?? process;
  const now = o.now ?? Date.now;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const recent: number[] = [];
  let exiting = false;

  const onError = (kind: 'uncaughtException' | 'unhandledRejection') => (err: unknown) => {
    const t = now();
    recent.push(t);
    while (recent.length > 0 && recent[0]! < t - 60_000) recent.shift();
    if (exiting) return;
    const v = verdict(err, kind, recent.length);
    if (v === 'serve') {
      o.log.error({ err, kind }, `${kind}: logged; the server keeps serving (state is as before the failed step)`);
      return;
    }
    exiting = true;
    o.log.fatal({ err, kind, recent: recent.length }, `${kind}: not safe to go on; closing the store and exiting`);
    const timer = setTimeout(() => exit(EXIT_UNSAFE), o.exitGraceMs ?? 5000);
    timer.unref?.();
    o.shutdown().then(
      () => exit(EXIT_UNSAFE),
      () => exit(EXIT_UNSAFE),
    );
  };
  const onUncaught = onError('uncaughtException');
  const onRejection = onError('unhandledRejection');
  proc.on('uncaughtException', onUncaught);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onUncaught);
    proc.off('unhandledRejection', onRejection);
  };
}
