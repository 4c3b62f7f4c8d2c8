// The app's secret key (what signs and checks UserSigs): given with --secret-key, or kept in the data
// directory, created on first start with mode 0600 so only its owner can read it.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SECRET_FILE = 'secret.key';

export interface SecretKey {
  key: string;
  /** Where it lives, when it came from the data directory. */
  file?: string;
  created: boolean;
  /** The file could be read by others (it was tightened now): the key may have leaked, consider a new one. */
  wasLoose?: boolean;
}

/** Reads the data directory's key; with `create`, makes one first if there is none. */
export function loadSecretKey(dataDir: string, opts: { create: boolean }): SecretKey {
  const file = path.resolve(dataDir, SECRET_FILE);
  if (existsSync(file)) {
    // Not a link, not a device: a link could point the server at (and make it chmod) any file it can read.
    const st = lstatSync(file);
    if (!st.isFile()) throw new Error(`the secret key ${file} is not a regular file (a symbolic link or other); refusing it`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new Error(`the secret key ${file} belongs to another user (uid ${st.uid}); refusing it`);
    }
    const key = readFileSync(file, 'utf8').trim();
    if (key.length < 16) throw new Error(`the secret key in ${file} is too short (${key.length} characters; at least 16)`);
    // Tighten a key file that someone loosened; a key others can read lets them sign as anyone, so say so.
    const wasLoose = (st.mode & 0o077) !== 0;
    if (wasLoose) chmodSync(file, 0o600);
    return { key, file, created: false, wasLoose };
  }
  if (!opts.create) {
    throw new Error(`no secret key: ${file} does not exist (start 'status-engine serve --data ${dataDir}' once to create it, or pass --secret-key)`);
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, file, created: true };
}

/** The database's file name in a data directory (a key missing next to it means issued UserSigs would die). */
export const DATABASE_FILE = 'status-engine.db';

export interface KeySources {
  /** --secret-key, STATUS_ENGINE_SECRET_KEY or the config file's `secret-key`. */
  secretKey?: string;
  data: string;
  store?: 'sqlite' | 'memory';
  /** --new-secret-key: a key may be made next to existing data (every UserSig issued so far stops working). */
  newSecretKey?: boolean;
}

export type ResolvedKey = SecretKey & { source: 'given' | 'file' | 'created' | 'ephemeral'; replacedLost?: boolean };

/**
 * The key `serve` signs with (and `usersig`, with `mint`), from the same sources in the same order: the given
 * key; else the data directory's file. `serve` creates the file on a first start (`sqlite` store), refuses to
 * replace a lost key next to an existing database unless told to, and with `--store memory` writes nothing
 * (a key that lives in memory only, unless the data directory already holds one).
 */
export function resolveSecretKey(src: KeySources, mode: 'serve' | 'mint'): ResolvedKey {
  if (src.secretKey !== undefined && src.secretKey !== '') {
    if (src.secretKey.length < 16) throw new Error(`option '--secret-key' is too short (${src.secretKey.length} characters; at least 16)`);
    return { key: src.secretKey, created: false, source: 'given' };
  }
  const file = path.resolve(src.data, SECRET_FILE);
  if (mode === 'mint' || existsSync(file)) return { ...loadSecretKey(src.data, { create: false }), source: 'file' };
  if (src.store === 'memory') return { key: randomBytes(32).toString('hex'), created: false, source: 'ephemeral' };
  const db = path.resolve(src.data, DATABASE_FILE);
  const hasData = existsSync(db);
  if (hasData && !src.newSecretKey) {
    throw new Error(
      `the data directory ${path.resolve(src.data)} holds a database but no secret key (${file} is missing): every UserSig issued so far was signed with it. ` +
        `Restore the file, give the key (--secret-key or STATUS_ENGINE_SECRET_KEY), or start with --new-secret-key to make a new one (every issued UserSig then stops working).`,
    );
  }
  return { ...loadSecretKey(src.data, { create: true }), source: 'created', replacedLost: hasData };
}
