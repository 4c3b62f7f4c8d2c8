// Subscriptions that mirror into each other's shards at the same time (NTF: every call is answered). A
// mirror's first attempt holds its source's later acknowledgements; it must wait only for the target's own
// appends, never for the target's mirrors in turn, or two crossing subscriptions wait for each other forever.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

/** Resolves with the call's outcome, or 'no answer' if it did not settle while the cluster settled. */
async function answered<T>(c: Cluster, calls: Promise<T>[]): Promise<string[]> {
  const out: string[] = calls.map(() => 'no answer');
  calls.forEach((p, i) => p.then(() => (out[i] = 'ok'), (e: { code?: number }) => (out[i] = `error ${String(e?.code)}`)));
  for (let i = 0; i < 5 && out.includes('no answer'); i++) await c.settle();
  return out;
}

describe.each([1, 3])('crossing subscriptions (%i node(s), memory backend)', (n) => {
  it('two devices subscribing to each other at the same time both get an answer, and later calls too', async () => {
    c = await startCluster(n, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const b = users.find((u) => c.nodes[0]!.shardOf(u) !== c.nodes[0]!.shardOf(a))!;
    const ca = new ClusterClient(c.portOf, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    expect(await answered(c, [ca.subscribeUserStatus({ userIDList: [b] }), cb.subscribeUserStatus({ userIDList: [a] })])).toEqual(['ok', 'ok']);
    const heard: string[] = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data.map((x) => `${x.userID}=${x.customStatus}`)));
    expect(await answered(c, [ca.setSelfStatus({ customStatus: 'after' })])).toEqual(['ok']);
    expect(heard).toEqual([`${a}=after`]);
  });

  it('a burst of random subscriptions: every call answered', async () => {
    c = await startCluster(n, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const clients = users.map(() => new ClusterClient(c.portOf, 'web'));
    await Promise.all(clients.map((cl, i) => cl.login({ userID: users[i]! })));
    let seed = 7;
    const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    const calls = clients.flatMap((cl, i) =>
      Array.from({ length: 4 }, () => cl.subscribeUserStatus({ userIDList: [users[(i + 1 + rnd(users.length - 1)) % users.length]!] })),
    );
    const out = await answered(c, calls);
    expect(out.filter((x) => x !== 'ok')).toEqual([]);
  });
});
