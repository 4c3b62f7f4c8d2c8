// POST /v4/im_open_status/backup {}: the online backup of a running `serve --data DIR` (docs/operations.md). The
// server holds its SQLite file exclusively, so no other process can copy it while it serves; the server copies
// it itself, through SQLite's backup API on its own connection, to DIR/backups/status-engine-<UTC time>.db.
import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
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

/** The backup call's body: an empty object. */
export const BACKUP_SCHEMA = z.object({}).strict();

/** `20261201T230000123Z`: sortable, no characters a shell or a file system minds. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

export function registerBackupRest(app: FastifyInstance, o: BackupRestOptions): void {
  let lastBase = '';
  let n = 0;
  auditRoute(app, o, 'backup', BACKUP_SCHEMA, async () => {
    const source = o.source;
    if ('none' in source) throw new StatusError(WireCode.UNKNOWN_COMMAND, `nothing to back up: ${source.none}`);
    const dir = path.join(path.dirname(source.file), 'backups');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A file name per call (two calls within one millisecond get a suffix); the wall clock names files only.
    const base = `status-engine-${stamp(Date.now())}`;
    n = base === lastBase ? n + 1 : 0;
    lastBase = base;
    const name = n === 0 ? base : `${base}-${n}`;
    const file = path.join(dir, `${name}.db`);
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
    return { File: file, Bytes: statSync(file).size, Seq: o.seq() };
  });
}
