// The node side's CPU per change, in one process, without sockets or Redis: 1 or 3 ClusterServices on the
// memory backend, 120 users each following 5 others, every user calling setSelfStatus back to back; prints
// CPU µs per acknowledged change (3 rounds). With 3 nodes most deliveries cross nodes (pushes over the
// bus, numbered, parsed, admitted), with 1 none: the difference is the cross-node delivery path's cost,
// measured as CPU time, so it holds on a busy machine. `prof` prints where the time goes instead.
//   node --import tsx bench/cluster/delivery.ts [1|3] [prof] [aged]
import { profiled, summarize } from '../lib/cpuprofile';
import { memoryBackends, startCluster } from '../../test/cluster/service/harness';
import { ClusterClient } from '../../test/cluster/service/client';
import { EVENT } from '../../src/events';

const NODES = Number(process.argv[2] ?? 3);
const N = 120;
const c = await startCluster(NODES, memoryBackends(3_600_000).make, { shards: 16 });
const users = Array.from({ length: N }, (_, i) => `m${i}`);
await c.nodes[0]!.admin.registerUsers(users);
const clients = users.map(() => new ClusterClient(c.portOf, 'web'));
for (let i = 0; i < N; i++) await clients[i]!.login({ userID: users[i]! });
let heard = 0;
for (const cl of clients) cl.on(EVENT.USER_STATUS_UPDATED, () => void heard++);
for (let i = 0; i < N; i++) await clients[i]!.subscribeUserStatus({ userIDList: [1, 2, 3, 4, 5].map((d) => users[(i + d * 7) % N]!) });
await c.settle();
// `aged`: the facts the subscriptions fetched from other nodes are older than their readTtlMs (5 s) during the
// load, as in part 8 (fetched at the set-up, and the load is only status changes) and in a service whose
// subscribe calls are rare next to changes. Without it the simulated clock never moves and they stay fresh.
const AGED = process.argv.includes('aged');
if (AGED) await c.advance(6000, 1000);

async function run(ms: number): Promise<{ acked: number; heard: number; cpuUsPerChange: number }> {
  let acked = 0;
  const until = Date.now() + ms;
  const h0 = heard;
  const c0 = process.cpuUsage();
  await Promise.all(
    clients.map(async (cl, i) => {
      for (let k = 0; Date.now() < until; k++) {
        await cl.setSelfStatus({ customStatus: `v${i}-${k}` });
        acked++;
      }
    }),
  );
  await c.settle();
  const cu = process.cpuUsage(c0);
  return { acked, heard: heard - h0, cpuUsPerChange: Math.round((cu.user + cu.system) / acked) };
}

await run(1000); // warm-up
if (process.argv.includes('prof')) {
  const prof = await profiled(async () => void (await run(3000)));
  for (const l of summarize(prof, { top: 30 }).self) console.log(`${(100 * l.share).toFixed(1).padStart(5)}%  ${l.fn}  ${l.where}`);
} else for (let r = 0; r < 3; r++) console.log(JSON.stringify({ nodes: NODES, ...(await run(3000)) }));
await c.close();
process.exit(0);
