// Kill -9 in the middle of writing: a child process applies commands on SqliteStore and prints each one the
// engine acknowledged; the parent kills it at a random point. Reopening must show every acknowledged change,
// and no command half-applied (a command and all of its effects land together, or none of them does).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/types';
import { SqliteStore } from '../../src/store/sqlite';
import { tempDir } from './tmp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const child = path.join(root, 'test/store/crash-child.ts');

/** Runs the child until it has acknowledged `killAfter` commands, SIGKILLs it, and returns every ack it printed. */
function runAndKill(file: string, killAfter: number): Promise<{ acks: Array<{ kind: string; i: number }>; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Array<{ kind: string; i: number }> = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`the child made ${acks.length} acks in 15 s, expected ${killAfter}; stderr: ${stderr}`));
    }, 15_000);
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => {
      buffer += d;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\w+) (\d+)$/.exec(line);
        if (m) acks.push({ kind: m[1] as string, i: Number(m[2]) });
      }
      if (!killed && acks.length >= killAfter) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    // 'close' comes after the pipes are drained: acks printed just before the kill are counted too.
    p.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (!killed) reject(new Error(`the child exited by itself (${signal ?? _code}): ${stderr}`));
      else resolve({ acks, signal });
    });
  });
}

/** What the reopened file must show: every acked change, and each journaled command with all of its effects. */
function checkFile(file: string, acks: Array<{ kind: string; i: number }>, note: string) {
  const store = new SqliteStore(file);
  try {
    for (const a of acks) {
      if (a.kind === 'register') expect(store.hasUser(`u${a.i}`), `${note}: u${a.i} registered`).toBe(true);
      if (a.kind === 'friend') expect(store.friendsOf('hub')?.has(`u${a.i}`), `${note}: u${a.i} a friend of hub`).toBe(true);
    }
    const lastStatus = acks.filter((a) => a.kind === 'status').at(-1);
    const custom = store.getStatus('hub')?.context.customStatus ?? '';
    // The command after the last ack may have landed too (it was durable, only its ack was lost).
    if (lastStatus) expect(Number(custom.slice(1)), `${note}: hub's status`).toBeGreaterThanOrEqual(lastStatus.i);

    // The journal has no gap, and the last command that made it in is fully applied.
    const journal = store.readJournal(1, Number.MAX_SAFE_INTEGER);
    expect(journal.map((e) => e.seq), `${note}: journal seqs`).toEqual(journal.map((_, k) => k + 1));
    expect(store.lastSeq()).toBe(journal.length);
    const commands = journal.filter((e): e is Extract<JournalEntry, { kind: 'command' }> => e.kind === 'command');
    const last = (type: string) => commands.filter((e) => e.command.type === type).at(-1)?.command;
    const reg = last('users.register');
    const users = [...store.userIDs()].filter((id) => id.startsWith('u'));
    if (reg?.type === 'users.register') expect(users.at(-1), `${note}: last registered`).toBe(reg.userIDs[0]);
    const fr = last('friends.add');
    const friends = [...(store.friendsOf('hub') ?? [])];
    if (fr?.type === 'friends.add') expect(friends.at(-1), `${note}: last friend`).toBe(fr.friendIDs[0]);
    const st = last('status.set');
    if (st?.type === 'status.set') expect(custom, `${note}: last status`).toBe(st.customStatus);
    // Registrations and friendships land in order: a prefix, never a hole.
    expect(users, `${note}: users`).toEqual(users.map((_, k) => `u${k}`));
    expect(friends, `${note}: friends`).toEqual(friends.map((_, k) => `u${k}`));
    return { users: users.length, journal: journal.length };
  } finally {
    store.close();
  }
}

describe('crash safety of SqliteStore', () => {
  const dirs: Array<{ remove: () => void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('EXT-3 after kill -9 at a random moment, every acknowledged command is there, and none is half-applied', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const file = tmp.file();
    let before = 0;
    // Two lives on the same file: the second one starts from what the first left after its crash.
    for (let life = 1; life <= 2; life++) {
      const killAfter = 30 + Math.floor(Math.random() * 300);
      const note = `life ${life}, killed after ${killAfter} acks`;
      const { acks, signal } = await runAndKill(file, killAfter);
      expect(signal).toBe('SIGKILL');
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      const seen = checkFile(file, acks, note);
      expect(seen.users, note).toBeGreaterThan(before);
      before = seen.users;
    }
  }, 45_000); // two child starts (tsx) on a busy 2-core machine; it takes about 2 s when idle
});
