// POST /v4/im_open_status/backup {}: the online backup of a running `serve --data DIR` (docs/operations.md). The
// server holds its SQLite file exclusively, so no other process can copy it while it serves; the server copies
// it itself, through SQLite's backup API on its own connection, to DIR/backups/status-engine-<UTC time>.db.
// `{"Keep": n}` then deletes all but the newest n copies there (the files this call names, nothing else).
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { StatusError } from '../errors';
import { WireCode } from '../protocol/codes';
import { auditRoute, type AuditProof } from './restAudit';

/** What the route needs of the store: SqliteStore's file and online backup; none for memory or a cluster. */
export interface BackupSource {
  file: string;
  backup(to: string): Promise<unknown>;
}

export interface BackupRestOptions extends AuditProof {
  /** The SQLite store, or why there is nothing to back up (`--store memory`, a cluster node). */
  source: BackupSource | { none: string };
  /** The journal seq the store holds now (read once the copy is whole). */
  seq(): number;
}

/** Most copies `Keep` may ask to keep (more: move them off the data disk, docs/operations.md). */
export const BACKUP_KEEP_MAX = 1000;

const KEEP_RANGE = `expected an integer from 1 to ${BACKUP_KEEP_MAX} (the copies to keep, this one included)`;

/** The backup call's body: empty, or how many copies to keep, this one included. */
export const BACKUP_SCHEMA = z
  .object({
    Keep: z
      .number({ error: KEEP_RANGE })
      .int({ error: KEEP_RANGE })
      .min(1, { error: KEEP_RANGE })
      .max(BACKUP_KEEP_MAX, { error: KEEP_RANGE })
      .optional()
      .describe(`After the copy, delete all but the newest Keep copies in <data>/backups (1-${BACKUP_KEEP_MAX}; absent: delete none)`),
  })
  .strict();

/** A copy this call wrote: its time stamp and the suffix of a second copy in the same millisecond. */
const COPY = /^status-engine-(\d{8}T\d{9}Z)(?:-(\d+))?\.db$/;

/**
 * The copies in `dir` beyond the newest `keep` (oldest first), `own` (the copy just made) always kept and
 * counted: the wall clock names the files, and one that stepped back would rank it below older copies. Other
 * files are not ours to touch.
 */
export function copiesBeyond(names: readonly string[], keep: number, own?: string): string[] {
  const copies = names.flatMap((name) => {
    const m = name === own ? null : COPY.exec(name);
    return m ? [{ name, stamp: m[1]!, n: m[2] === undefined ? 0 : Number(m[2]) }] : [];
  });
  if (own !== undefined && names.includes(own)) keep--;
  copies.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.n - b.n));
  return copies.slice(0, Math.max(0, copies.length - keep)).map((c) => c.name);
}

/** `20261201T230000123Z`: sortable, no characters a shell or a file system minds. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

export function registerBackupRest(app: FastifyInstance, o: BackupRestOptions): void {
  let lastBase = '';
  let n = 0;
  // One backup at a time: two copies at once would share the store's connection, and a second call's prune
  // could rank the first call's copy (named earlier, finished later) among the old ones.
  let running: Promise<unknown> = Promise.resolve();
  auditRoute(app, o, 'backup', BACKUP_SCHEMA, (body) => {
    const next = running.then(() => backupOnce(body));
    running = next.catch(() => undefined);
    return next;
  });

  async function backupOnce(body: z.infer<typeof BACKUP_SCHEMA>): Promise<Record<string, unknown>> {
    const source = o.source;
    if ('none' in source) throw new StatusError(WireCode.UNKNOWN_COMMAND, `nothing to back up: ${source.none}`);
    const dir = path.join(path.dirname(source.file), 'backups');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A file name per call (two calls within one millisecond get a suffix); the wall clock names files only.
    const base = `status-engine-${stamp(Date.now())}`;
    n = base === lastBase ? n + 1 : 0;
    lastBase = base;
    const nameOf = () => path.join(dir, `${n === 0 ? base : `${base}-${n}`}.db`);
    // A clock that stepped back may name a copy that is there already: never renamed over.
    while (existsSync(nameOf())) n++;
    const file = nameOf();
    const partial = `${file}.partial`;
    try {
      await source.backup(partial);
      chmodSync(partial, 0o600);
      // Whole, or not there: a copy that failed half-way never carries the name of a good one.
      renameSync(partial, file);
    } catch (e) {
      rmSync(partial, { force: true });
      throw e;
    }
    const answer = { File: file, Bytes: statSync(file).size, Seq: o.seq() };
    if (body.Keep === undefined) return answer;
    const removed: string[] = [];
    const notRemoved: Array<{ File: string; Error: string }> = [];
    for (const name of copiesBeyond(readdirSync(dir), body.Keep, path.basename(file))) {
      try {
        rmSync(path.join(dir, name));
        removed.push(name);
      } catch (e) {
        // The copy is made: a copy that could not be deleted is said, not a failure of the call.
        notRemoved.push({ File: name, Error: (e as NodeJS.ErrnoException).code ?? String(e) });
      }
    }
    return { ...answer, Removed: removed, ...(notRemoved.length > 0 ? { NotRemoved: notRemoved } : {}) };
  }
}
