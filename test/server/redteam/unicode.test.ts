// Red team: a userID that is not well-formed UTF-16 (a lone surrogate, which JSON's "\ud800" escape carries
// to the server) was accepted, and then lost. SQLite stores text as UTF-8, where a lone surrogate has no
// encoding: better-sqlite3 wrote bytes that are not UTF-8 and read them back as U+FFFD. Two acknowledged
// registrations ('a\ud800', 'a\udbff') were distinct in memory and both gone after a restart (each read back
// as 'a\ufffd\ufffd\ufffd', one user where there were two). Now such a userID is refused (6017, naming the
// parameter) on every path, and well-formed text, astral characters included, keeps its identity.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loneSurrogateAt } from '../../../src/engine/validate';
import { SqliteStore } from '../../../src/store/sqlite';
import { hubClient, startInProcess, type TestServer } from '../wire';

let s: TestServer | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await s?.close();
  s = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dbFile(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'red3-unicode-'));
  dirs.push(d);
  return path.join(d, 'state.sqlite');
}

// REST bodies as raw text: JSON.stringify would write the lone surrogate as the same escape anyway.
const LONE = '"a\\ud800"';

describe('userIDs that are not well-formed UTF-16', () => {
  it('are refused at registration (the REST API) with the parameter, and nothing is registered', async () => {
    const file = dbFile();
    s = await startInProcess({ store: new SqliteStore(file) });
    const one = await s.rest('im_open_login_svc/account_import', `{"UserID":${LONE}}`);
    expect(one.ActionStatus).toBe('FAIL');
    expect(one.ErrorInfo).toMatch(/UserID/);
    expect(one.ErrorInfo).toMatch(/surrogate/);
    const many = await s.rest('im_open_login_svc/multiaccount_import', `{"Accounts":["ok1",${LONE}]}`);
    expect(many.ActionStatus).toBe('FAIL');
    expect(many.ErrorInfo).toMatch(/Accounts/);
    // Nothing of the refused call was registered (the whole call is refused, as for any bad entry).
    const q = await s.rest('openim/query_online_status', { To_Account: ['ok1'] });
    expect(q.QueryResult ?? []).toEqual([]);
  });

  it('a well-formed astral userID survives a restart on SQLite, as it was acknowledged', async () => {
    const file = dbFile();
    s = await startInProcess({ store: new SqliteStore(file) });
    const id = 'u\u{1F600}\u00e9';
    expect((await s.rest('im_open_login_svc/account_import', { UserID: id })).ActionStatus).toBe('OK');
    await s.close();
    s = await startInProcess({ store: new SqliteStore(file) });
    const q = await s.rest('openim/query_online_status', { To_Account: [id] });
    expect(q.QueryResult?.map((r: { To_Account: string }) => r.To_Account)).toEqual([id]);
  });

  it('are refused by the client protocol (login, getUserStatus) with 6017 and the parameter', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const c = await hubClient(s);
    c.ws.send(`{"id":1,"op":"login","params":{"userID":${LONE},"userSig":"x"}}`);
    const refused = await c.next((f) => f.id === 1);
    expect(refused.error).toMatchObject({ code: 6017, param: 'userID' });
    expect((await c.login('alice')).ok).toBe(true);
    c.ws.send(`{"id":2,"op":"getUserStatus","params":{"userIDList":["alice",${LONE}]}}`);
    expect((await c.next((f) => f.id === 2)).error).toMatchObject({ code: 6017, param: 'userIDList[1]' });
    c.ws.close();
  });
});

describe('loneSurrogateAt', () => {
  it('finds a lone surrogate exactly when the string is not well-formed (String.prototype.isWellFormed)', () => {
    const wellFormed = (t: string) => (t as unknown as { isWellFormed(): boolean }).isWellFormed();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (t) => {
        const at = loneSurrogateAt(t);
        expect(at < 0).toBe(wellFormed(t));
        if (at >= 0) expect(wellFormed(t.slice(0, at))).toBe(true); // the first one
      }),
      { numRuns: 3000 },
    );
  });
});
