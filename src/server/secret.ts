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
