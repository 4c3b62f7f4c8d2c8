// The hub's side of scale's chaos finding (bench part 8), over 3 in-process nodes (memory backend, simulated
// clock): a client's resume lands on a hub that does not hold its device (another node took the shard over),
// and fails after the device came back (its resume's read of another node's user: NOT_PREPARED). The client
// retries the resume: it was refused as "kicked out" (the session was left logged in as 'null'), and the login
// that followed with 6017 "this device is logged in as 'null'": the device could never log in again.
import { afterEach, describe, expect, it } from 'vitest';
import type { PreparedCall } from '../../../src/cluster/service';
import type { DeviceHandle } from '../../../src/engine/port';
import { ErrorCode } from '../../../src/errors';
import { DeviceRegistry, type Conn } from '../../../src/server/hub/devices';
import { runOpAsync, type OpContext } from '../../../src/server/hub/ops';
import { Retrier } from '../../../src/server/link/retry';
import { aliceAndBobApart, memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

/** A hub of one node: its device registry, calls prepared by the node's port; `expire` drops the fetched facts after each prepare. */
function hubOf(node: Cluster['nodes'][number], clock: Cluster['clock']) {
  const o = { expire: false };
  const port = node.port;
  const devices = new DeviceRegistry({
    port,
    clock,
    retry: new Retrier({ clock, log: { warn: () => {}, info: () => {} } as never }),
    guard: (_what, fn) => fn(),
    push: () => {},
  });
  const cx: OpContext = {
    port,
    devices,
    verifyUserSig: (userID) => userID,
    prepare: async (call: PreparedCall, s: DeviceHandle, arg: unknown) => {
      await port.prepare(call, s, arg);
      if (o.expire) clock.increment(20); // a slow turn: what was fetched is gone when the call runs
    },
  };
  const conn = (deviceId: string) => ({ deviceId, platform: 'web', device: null, silenced: false, link: { replaced: () => {} } }) as unknown as Conn;
  const op = (conn: Conn, name: Parameters<typeof runOpAsync>[2], params: unknown) => runOpAsync(cx, conn, name, params);
  return { o, devices, conn, op };
}

const codeOf = async (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: number }) => e.code);

describe('a resume that fails after the device came back, at the hub (memory backend, 3 nodes)', () => {
  it('DEV-1 EXT-2: the retried resume takes the device back, and a login is a repeat login (not 6017 "logged in as null")', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make, { readTtlMs: 10 });
    const { alice, node, bob } = await aliceAndBobApart(c);
    const before = hubOf(node, c.clock);
    const conn1 = before.conn('web-1');
    await before.op(conn1, 'login', { userID: alice, userSig: 's' });
    await before.op(conn1, 'subscribeUserStatus', { userIDList: [bob] });
    await c.settle();

    // A hub that does not hold the device (as on the node that took the shard over): the resume adopts it.
    const hub = hubOf(node, c.clock);
    const conn2 = hub.conn('web-1');
    hub.o.expire = true;
    expect(await codeOf(hub.op(conn2, 'resume', { userID: alice, userSig: 's', versions: {} }))).toBe(ErrorCode.NOT_PREPARED);
    hub.o.expire = false;
    await c.settle();
    // The client retries: the device is alice's, it is taken back.
    expect(await hub.op(conn2, 'resume', { userID: alice, userSig: 's', versions: {} })).toMatchObject({ userID: alice });
    expect(await hub.op(conn2, 'login', { userID: alice, userSig: 's' })).toMatchObject({ repeatLogin: true, userID: alice });
    expect(hub.devices.stats()).toMatchObject({ devices: 1, loggedIn: 1 });
  });
});
