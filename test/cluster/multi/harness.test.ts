// The multi-process harness on its own, against today's single-process server (no Redis): a node starts
// and answers /healthz, the fleet's clients record acks and pushes that the checker finds clean against the
// REST truth, kill -9 and a restart on the same port bring the clients back by themselves, and SIGSTOP
// makes /healthz stop answering until SIGCONT.
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory, summarize } from './checker';
import { Cluster } from './cluster';
import { Fleet } from './fleet';

describe('multi-process harness (single node, no Redis)', () => {
  let cluster: Cluster | undefined;
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.destroy();
    await cluster?.stop();
    fleet = cluster = undefined;
  });

  it('records a clean history, survives kill -9 and restart, and freezes on SIGSTOP', async () => {
    cluster = await Cluster.start({ single: true });
    await cluster.enableUserStatus();
    const node = cluster.nodes[0]!;
    const users = ['h_a', 'h_b', 'h_c', 'h_d'];
    await cluster.register(users);
    fleet = new Fleet((h) => cluster!.urlsFrom(h));
    const ds = await fleet.login(users, () => 0);
    for (const d of ds) await fleet.follow(d, users.filter((u) => u !== d.userID));
    for (let i = 0; i < 3; i++) for (const d of ds) expect(await fleet.set(d)).toBe(true);
    await fleet.settle();
    const truth = await cluster.queryStatus(users);
    const report = checkHistory(fleet.history(truth));
    expect(summarize(report)).toBe('lost 0, reused versions 0, duplicates 0, regressions 0, stale views 0, ghosts 0');
    expect(fleet.acks).toHaveLength(12);

    // A planted fault is seen through the same path: one device's record of a push altered.
    const h = fleet.history(truth);
    const at = h.heard.findIndex((x) => x.kind !== 'read' && x.status.userID === 'h_a' && x.status.version === truth[0]!.version);
    h.heard[at] = { ...h.heard[at]!, status: { ...h.heard[at]!.status, customStatus: 'forged' } };
    expect(checkHistory(h).ok).toBe(false);

    await node.kill9();
    expect(await node.health()).toBeNull();
    await node.start(); // same port, empty memory store: the clients come back by themselves
    await cluster.enableUserStatus();
    await cluster.register(users);
    // A client that came back before its user was registered again was refused (70107), as it should be: it logs in again.
    for (const k of fleet.kicked.splice(0)) {
      expect(k.code).toBe(70107);
      await fleet.relogin(ds.find((d) => d.userID === k.userID)!);
    }
    await fleet.settle();
    expect(await fleet.set(ds[0]!)).toBe(true);

    node.pause();
    expect(await node.health()).toBeNull(); // frozen: /healthz times out
    node.resume();
    expect(await node.ready()).toMatchObject({ status: 'ok' });
  }, 90_000);
});
