// The admin dashboard on a cluster node (issue 14 in cluster mode): any node shows the whole cluster through
// the ClusterAdmin (a user whose shard another node owns, with its status, reason, devices and links; the
// cluster's counts) and its own panel (node, shards, live nodes, Redis); the live stream sends a watched
// user's steps whichever node owns it (this node's shards live, the others polled on the clock), each once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_POLL_MS } from '../../../src/server/dashboardCluster';
import { sig } from '../proc';
import { hubClient } from '../wire';
import { startTestCluster, type Node, type TestCluster } from './harness';

let cluster: TestCluster;
let a: Node;
let b: Node;
beforeAll(async () => {
  cluster = await startTestCluster(['a', 'b', 'c']);
  [a, b] = cluster.nodes as [Node, Node];
});
afterAll(() => cluster.close());

const auth = { authorization: `UserSig ${sig('administrator')}` };
const api = async (n: Node, path: string, headers: Record<string, string> = auth) => {
  const res = await fetch(`${n.url}/dashboard/api/${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/** The live stream's events, read as the page reads them (fetch, UserSig in a header). */
async function liveStream(n: Node, watch: string[]) {
  const ctl = new AbortController();
  const res = await fetch(`${n.url}/dashboard/api/live?watch=${encodeURIComponent(watch.join(','))}`, { headers: auth, signal: ctl.signal });
  expect(res.status).toBe(200);
  const events: Array<{ event: string; data: any }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(chunk)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  const until = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    if (!pred()) throw new Error(`live stream: no ${what}; got ${JSON.stringify(events.map((e) => e.event))}`);
  };
  return { events, until, steps: () => events.filter((e) => e.event === 'transition').map((e) => e.data), close: () => ctl.abort() };
}

describe('the dashboard on a cluster node', () => {
  it('shows a user whose shard another node owns: status, reason, devices and link', async () => {
    const [u] = cluster.usersOf(b, 1) as [string];
    expect(a.service.ownerOf(u)).toBe('b');
    expect((await a.rest('im_open_login_svc/account_import', { UserID: u })).ActionStatus).toBe('OK');
    const c = await hubClient(a); // relayed to b
    expect((await c.login(u)).ok).toBe(true);
    expect((await c.call('setSelfStatus', { customStatus: 'in a meeting' })).ok).toBe(true);
    const { status, body } = await api(a, `users/${u}`);
    expect(status).toBe(200);
    expect(body.userID).toBe(u);
    expect(body.status).toMatchObject({ statusType: 1, customStatus: 'in a meeting', reason: expect.any(String) });
    expect(body.status.version).toBe(b.service.port.queryStatus([u], { detail: true })[0]!.version);
    expect(body.devices).toHaveLength(1);
    expect(body.devices[0]).toMatchObject({ connected: true });
    expect(body.machines.userStatus).toBe(b.service.port.userDetail(u).statusState);
    // What b itself says of the user (the owner's own dashboard) is the same.
    expect((await api(b, `users/${u}`)).body).toEqual(body);
    c.ws.close();
    // An unknown user is a 404 with 70107, as on one process; no proof, no read.
    expect(await api(a, 'users/nobody')).toMatchObject({ status: 404, body: { ErrorCode: 70107 } });
    expect((await api(a, `users/${u}`, {})).status).toBe(401);
    expect((await api(a, `users/${u}`, { authorization: 'UserSig forged' })).status).toBe(401);
  });

  it("counts the whole cluster's users on any node, and shows the node's own panel", async () => {
    const ids = [...cluster.usersOf(a, 2), ...cluster.usersOf(b, 2), ...cluster.usersOf(cluster.nodes[2]!, 2)];
    expect((await a.rest('im_open_login_svc/multiaccount_import', { Accounts: ids })).ActionStatus).toBe('OK');
    const total = cluster.nodes.reduce((n, x) => n + x.service.port.userCount(), 0);
    const online = cluster.nodes.reduce((n, x) => n + x.service.port.onlineUserIDs().filter((u) => x.service.ownerOf(u) === x.id).length, 0);
    for (const n of cluster.nodes) {
      const { body } = await api(n, 'counts');
      expect(body).toMatchObject({ registeredUsers: total, onlineUsers: online, missingShards: [] });
      expect(body.node).toMatchObject({ node: n.id, shards: n.service.health().shards, live: ['a', 'b', 'c'], redis: 'ready' });
    }
    const { body } = await api(b, 'node');
    expect(body).toMatchObject({ node: 'b', shardCount: 8, live: ['a', 'b', 'c'], redis: 'ready', status: 'ok' });
    expect(body.shards.length).toBeGreaterThan(0);
  });

  it("streams a watched user's steps on a node that does not own it (polled), and an owned one's live, each once", async () => {
    const [far] = cluster.usersOf(b, 1) as [string];
    const [near] = cluster.usersOf(a, 1) as [string];
    await a.rest('im_open_login_svc/multiaccount_import', { Accounts: [far, near] });
    // Steps from before the stream opened are the journal's (the page shows it), not the stream's.
    const before = { far: b.service.port.explain(far).length, near: a.service.port.explain(near).length };
    const s = await liveStream(a, [far, near]);
    await s.until(() => s.events.some((e) => e.event === 'hello'), 'hello');
    expect(s.events.find((e) => e.event === 'hello')!.data).toMatchObject({ cluster: { node: 'a', pollMs: CLUSTER_POLL_MS } });
    await new Promise((r) => setTimeout(r, 50)); // the first poll sets where the stream starts
    const cn = await hubClient(a);
    expect((await cn.login(near)).ok).toBe(true);
    await s.until(() => s.steps().some((t) => t.userID === near), `step of ${near}`); // live: no clock moved
    const cf = await hubClient(a);
    expect((await cf.login(far)).ok).toBe(true);
    expect((await cf.call('setSelfStatus', { customStatus: 'far away' })).ok).toBe(true);
    const farSteps = () => s.steps().filter((t) => t.userID === far);
    expect(farSteps()).toEqual([]);
    cluster.clock.increment(CLUSTER_POLL_MS); // the poll of the user another node owns
    await s.until(() => farSteps().length >= 2, `steps of ${far}`);
    expect(farSteps().map((t) => t.event)).toEqual(b.service.port.explain(far).slice(-2).map((t) => t.event));
    expect(farSteps().at(-1)).toMatchObject({ reason: expect.any(String), after: { customStatus: 'far away' } });
    cluster.clock.increment(CLUSTER_POLL_MS); // nothing new: nothing sent again
    cluster.clock.increment(CLUSTER_POLL_MS);
    await new Promise((r) => setTimeout(r, 50));
    const seqs = s.steps().map((t) => `${t.userID}/${t.seq}`);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(s.steps().filter((t) => t.userID === near).length).toBe(a.service.port.explain(near).length - before.near);
    expect(farSteps().length).toBe(b.service.port.explain(far).length - before.far);
    s.close();
    cn.ws.close();
    cf.ws.close();
  });
});
