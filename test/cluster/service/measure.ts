// A measurement, not a test: three ClusterServices in one process on a real redis-server (appendfsync
// always), `--clients` devices each on its user's owner node, each sending setSelfStatus back to back for
// `--seconds`; half of the users subscribe to a user on another node. Prints acknowledged calls/s, Redis
// script calls and commands per acknowledged call (INFO commandstats), and cross-node pushes per call.
//   node --import tsx test/cluster/service/measure.ts [--clients 64] [--seconds 5] [--shards 16]
import { Redis } from 'ioredis';
import { createRedisCluster } from '../../../src/cluster/redis/backend';
import { RedisServer } from '../redis';
import { commandCalls } from '../stats';
import { ClusterClient } from './client';
import { startCluster } from './harness';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const CLIENTS = arg('clients', 64);
const SECONDS = arg('seconds', 5);
const SHARDS = arg('shards', 16);

const server = await RedisServer.start();
const admin = new Redis(server.url);
try {
  const c = await startCluster(3, (clock) => createRedisCluster({ url: server.url, clock, leaseTtlMs: 3_600_000, heartbeatTtlMs: 3_600_000 }), { shards: SHARDS });
  const users = Array.from({ length: CLIENTS }, (_, i) => `m${i}`);
  await c.nodes[0]!.admin.registerUsers(users);
  const clients = users.map(() => new ClusterClient(c.portOf, 'web'));
  for (let i = 0; i < CLIENTS; i++) await clients[i]!.login({ userID: users[i]! });
  for (let i = 0; i < CLIENTS; i += 2) {
    const other = users.find((u) => c.ownerNode(u) !== c.ownerNode(users[i]!))!;
    await clients[i]!.subscribeUserStatus({ userIDList: [other] });
  }
  await c.settle();
  const before = await commandCalls(admin);
  const pushes0 = c.nodes.reduce((n, s) => n + s.runtime.counts.pushesSent, 0);
  let acked = 0;
  let failed = 0;
  const until = Date.now() + SECONDS * 1000;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (cl, i) => {
      for (let k = 0; Date.now() < until; k++) {
        try {
          await cl.setSelfStatus({ customStatus: `v${i}-${k}` });
          acked += 1;
        } catch {
          failed += 1;
        }
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.settle();
  const after = await commandCalls(admin);
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const all = [...after.keys()].reduce((n, k) => n + delta(k), 0) - 1; // minus the INFO itself
  const pushes = c.nodes.reduce((n, s) => n + s.runtime.counts.pushesSent, 0) - pushes0;
  console.log(
    JSON.stringify({
      clients: CLIENTS,
      shards: SHARDS,
      seconds: Number(secs.toFixed(2)),
      ackedPerSecond: Math.round(acked / secs),
      failed,
      scriptCallsPerCall: Number(((delta('evalsha') + delta('eval')) / acked).toFixed(3)),
      redisCommandsPerCall: Number((all / acked).toFixed(3)),
      pushesPerCall: Number((pushes / acked).toFixed(3)),
    }),
  );
  await c.close();
} finally {
  admin.disconnect();
  await server.stop();
}
