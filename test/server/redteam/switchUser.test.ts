// Red team 17, finding 3: a /ws socket that logs in as another user moves off its first user's device. That
// device was only unbound (no link close): nothing made it silent or closed, so it stayed Online until the
// hub's retention sweep (retentionMs, 10 min) instead of DEV-2's heartbeat timeout. Now it is detached: its
// link closes as when its socket goes, and the timeout takes it offline.
import { afterEach, describe, expect, it } from 'vitest';
import { hubClient, startInProcess, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const state = async (t: TestServer, userID: string): Promise<string | undefined> => {
  const q = await t.rest('openim/query_online_status', { To_Account: [userID] });
  return (q.QueryResult as Array<{ To_Account: string; Status: string }>).find((r) => r.To_Account === userID)?.Status;
};

describe('a /ws socket that logs in as another user', () => {
  it("lets go of the first user's device: it is offline after the heartbeat timeout, not after the retention sweep", async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
    const c = await hubClient(s);
    expect((await c.login('alice')).ok).toBe(true);
    expect(await state(s, 'alice')).toBe('Online');
    expect((await c.login('bob')).ok).toBe(true);
    // 70 s, the socket pinging every 5 s (bob's link stays live): past the web heartbeat timeout (60 s).
    for (let i = 0; i < 14; i++) {
      s.clock.advance(5_000);
      expect((await c.call('ping')).ok).toBe(true);
    }
    expect(await state(s, 'bob')).toBe('Online');
    expect(await state(s, 'alice')).not.toBe('Online');
    c.ws.close();
  });
});
