// REST admin (/v4/...) on a node that owns none of the users it names (issue 13 item 2): through the
// ClusterAdmin, with the same validation and error codes as on one process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubClient } from '../wire';
import { startTestCluster, type Node, type TestCluster } from './harness';

let cluster: TestCluster;
let a: Node;
let b: Node;
let users: string[];
beforeAll(async () => {
  cluster = await startTestCluster(['a', 'b']);
  [a, b] = cluster.nodes as [Node, Node];
  users = cluster.usersOf(b, 3); // all owned by b; every call goes to a
});
afterAll(() => cluster.close());

describe('REST on a node that owns none of the users', () => {
  it('imports, befriends, queries and configures as on one process', async () => {
    const [u1, u2, u3] = users as [string, string, string];
    expect(users.every((u) => a.service.ownerOf(u) === 'b')).toBe(true);
    expect(await a.rest('im_open_login_svc/account_import', { UserID: u1 })).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    expect(await a.rest('im_open_login_svc/multiaccount_import', { Accounts: [u2, u3] })).toMatchObject({ ActionStatus: 'OK', FailAccounts: [] });
    const add = await a.rest('sns/friend_add', { From_Account: u1, AddFriendItem: [{ To_Account: u2 }, { To_Account: 'nobody' }, { To_Account: u1 }], AddType: 'Add_Type_Both' });
    expect(add).toMatchObject({ ActionStatus: 'OK', Fail_Account: ['nobody', u1] });
    expect(add.ResultItem).toEqual([
      { To_Account: u2, ResultCode: 0, ResultInfo: '' },
      { To_Account: 'nobody', ResultCode: 70107, ResultInfo: "user 'nobody' is not registered" },
      { To_Account: u1, ResultCode: 70402, ResultInfo: 'a user cannot be its own friend' },
    ]);
    // The edge landed at the owner.
    expect(b.service.port.userDetail(u1).friends).toContain(u2);
    const q = await a.rest('openim/query_online_status', { To_Account: [u1, 'nobody'], IsNeedDetail: 1 });
    expect(q.QueryResult).toEqual([expect.objectContaining({ To_Account: u1, Status: 'Offline', Detail: [] })]);
    expect(q.ErrorList).toEqual([expect.objectContaining({ To_Account: 'nobody', ErrorCode: 70107 })]);
    const cfg = await a.rest('im_open_status/config', { Switches: { FriendStatusNotify: 'off' } });
    expect(cfg).toMatchObject({ ActionStatus: 'OK', Switches: { FriendStatusNotify: 'off' } });
    expect(await b.rest('im_open_status/config', {})).toMatchObject({ Switches: { FriendStatusNotify: 'off' } });
  });

  it('refuses what one process refuses, with the same codes, changing nothing', async () => {
    expect(await a.rest('sns/friend_add', { From_Account: 'ghost', AddFriendItem: [{ To_Account: users[0] }] })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70107 });
    expect(await a.rest('im_open_login_svc/multiaccount_import', { Accounts: [] })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402 });
    expect(await a.rest('openim/query_online_status', '{not json')).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90001 });
    expect(await a.rest('im_open_status/config', { Edition: 'gold' })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402 });
    expect(await b.rest('im_open_status/config', {})).toMatchObject({ Switches: { FriendStatusNotify: 'off' } }); // unchanged
    expect(await b.rest('im_open_status/config', {})).toMatchObject({ ActionStatus: 'OK' });
  });

  it('explain asks the owner; journal pages one shard (Shard required)', async () => {
    const [u1] = users as [string];
    const c = await hubClient(a); // relayed to b, the owner: a status step to explain
    expect((await c.login(u1)).ok).toBe(true);
    c.ws.close();
    const ex = await a.rest('im_open_status/explain', { UserID: u1 });
    expect(ex).toMatchObject({ ActionStatus: 'OK', UserID: u1 });
    expect(ex.Total).toBeGreaterThan(0);
    expect(ex.Total).toBe(b.service.port.explain(u1).length);
    expect(ex.Transitions[0]).toMatchObject({ Reason: 'login', To: expect.any(String) });
    expect(await a.rest('im_open_status/explain', { UserID: 'nobody' })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70107 });
    expect(await a.rest('im_open_status/journal', {})).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402, ErrorInfo: expect.stringMatching(/Shard/) });
    expect(await a.rest('im_open_status/journal', { Shard: 8 })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402 });
    const shard = b.service.shardOf(u1);
    const j = await a.rest('im_open_status/journal', { Shard: shard, Limit: 1000 });
    expect(j).toMatchObject({ ActionStatus: 'OK', Shard: shard });
    expect(j.Entries.some((e: any) => e.userID === u1 || JSON.stringify(e).includes(u1))).toBe(true);
  });
});
