// Compaction over the server (issue 9): `serve --journal-keep N` is checked like every flag, and the REST
// journal tells where the kept journal starts (FirstSeq) and the seq of the snapshot it replays from.
import { CommanderError } from 'commander';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index';
import { buildProgram } from '../../src/server/program';
import { startServer, type RunningServer } from '../../src/server/server';
import { SqliteStore } from '../../src/store/sqlite';
import { SDK_APP_ID, SECRET, sig } from '../server/proc';
import { tempDir } from './tmp';

const tmp = tempDir();
let server: RunningServer | undefined;
let store: SqliteStore | undefined;
afterAll(async () => {
  await server?.close();
  store?.close();
  tmp.remove();
});

describe('journal retention over the server', () => {
  it('--journal-keep and --journal-keep-ms refuse bad values, naming the flag and its limit', async () => {
    for (const [args, message] of [
      [['serve', '--journal-keep', '-1'], /--journal-keep must be between 0 and/],
      [['serve', '--journal-keep', 'ten'], /--journal-keep must be a whole number/],
      [['serve', '--journal-keep-ms', '0'], /--journal-keep-ms must be between 1 and/],
    ] as const) {
      let err = '';
      const program = buildProgram({ out: () => {}, err: (s) => (err += s), exitOverride: true });
      const code = await program.parseAsync([...args], { from: 'user' }).then(() => 0, (e: unknown) => (e instanceof CommanderError ? e.exitCode : -1));
      expect(code, args.join(' ')).toBe(1);
      expect(err, args.join(' ')).toMatch(message);
    }
  });

  it('EXT-3 im_open_status/journal reports FirstSeq and SnapshotSeq once the journal is compacted', async () => {
    store = new SqliteStore(tmp.file(), { journalRetention: { maxEntries: 5, slackEntries: 2 } });
    server = await startServer({ host: '127.0.0.1', port: 0, sdkAppId: SDK_APP_ID, secretKey: SECRET, logger: pino({ level: 'silent' }), store, settings: { switches: { userStatus: true } } });
    const rest = async (body: unknown) => {
      const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
      return (await (await fetch(`${server!.url}/v4/im_open_status/journal?${q}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, any>;
    };
    server.core.registerUsers(['alice']);
    expect(await rest({})).toMatchObject({ ActionStatus: 'OK', FirstSeq: 1, SnapshotSeq: null });
    const c = createClient({ url: server.url });
    await c.login({ userID: 'alice', userSig: sig('alice') });
    for (let i = 0; i < 6; i++) await c.setSelfStatus({ customStatus: `s${i}` });
    await c.logout();
    c.disconnect();
    const r = await rest({});
    expect(r.ActionStatus).toBe('OK');
    expect(r.FirstSeq).toBeGreaterThan(1);
    expect(r.Entries[0].seq).toBe(r.FirstSeq);
    expect(r.Entries.length).toBeLessThanOrEqual(5 + 2);
    expect(r.SnapshotSeq).toBeGreaterThanOrEqual(r.FirstSeq - 1);
  });
});
