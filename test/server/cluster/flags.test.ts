// `serve --redis --node-id [--shards] [--advertise] [--lease-ms]` (issue 13 item 5): bad values and bad
// combinations are refused before anything starts, naming the flag (or variable, or config key); and two
// real `serve --redis` processes on a real redis-server: /healthz names the node, its shards, the live nodes
// and Redis' state, a client on one node whose user the other owns is served, SIGTERM hands the shards over.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client/index';
import { buildProgram } from '../../../src/server/program';
import { RedisServer } from '../../cluster/redis';
import { sig, startServerProcess, until, type ServerProcess } from '../proc';

const dirs: string[] = [];
const procs: ServerProcess[] = [];
let redis: RedisServer | null = null;
afterAll(async () => {
  for (const p of procs) await p.kill9().catch(() => undefined);
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
  let err = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const program = buildProgram({ out: () => {}, err: (s) => (err += s), exitOverride: true });
    await program.parseAsync(args, { from: 'user' });
    throw new Error(`not refused: ${args.join(' ')}`);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    expect(e.exitCode, args.join(' ')).toBe(1);
    return err;
  } finally {
    process.env = saved;
  }
}

describe('serve --redis: flags', () => {
  it('refuses bad values and combinations, naming the flag, variable or key', async () => {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['serve', '--redis', 'localhost:6379', '--node-id', 'a'], /--redis must be redis:\/\/ or rediss:\/\//],
      [['serve', '--redis', 'not a url', '--node-id', 'a'], /--redis must be an absolute URL/],
      [['serve', '--redis', 'redis://127.0.0.1:6379'], /--redis needs --node-id/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a b'], /--node-id must be 1 to 64 characters/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a#1'], /--node-id must be 1 to 64 characters/],
      // A '.' split every relay token into too many fields: each relay to or from the node was refused (red team 17 finding 4).
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'eu.1'], /--node-id must be 1 to 64 characters.*no '\.'/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a', '--shards', '0'], /--shards must be between 1 and 4096/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a', '--advertise', 'http://x:1'], /--advertise must be ws:\/\/ or wss:\/\//],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a', '--lease-ms', '50'], /--lease-ms must be between 200/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a', '--clock', 'simulated'], /--clock simulated cannot be used with --redis/],
      [['serve', '--redis', 'redis://127.0.0.1:6379', '--node-id', 'a', '--store', 'memory'], /--store has no effect with --redis/],
      [['serve', '--node-id', 'a'], /--node-id needs --redis/],
      [['serve', '--shards', '8'], /--shards needs --redis/],
      [['serve', '--advertise', 'ws://127.0.0.1:1'], /--advertise needs --redis/],
      [['serve', '--redis', 'redis://127.0.0.1:6379'], /the environment variable STATUS_ENGINE_SHARDS must be a whole number/, { STATUS_ENGINE_NODE_ID: 'a', STATUS_ENGINE_SHARDS: 'many' }],
    ];
    for (const [args, message, env] of cases) expect(await refused(args, env), args.join(' ')).toMatch(message);
    const dir = mkdtempSync(path.join(tmpdir(), 'status-engine-cluster-'));
    dirs.push(dir);
    const file = path.join(dir, 'node.yaml');
    writeFileSync(file, 'redis: redis://127.0.0.1:6379\nnode-id: a\nshards: 5000\n');
    expect(await refused(['serve', '--config', file])).toMatch(/the config file .*node\.yaml: key 'shards' must be between 1 and 4096/);
    // A node never makes its own key: every node must have the same one.
    expect(await refused(['serve', '--redis', 'redis://127.0.0.1:1', '--node-id', 'a', '--data', dir])).toMatch(/--redis needs the cluster's secret key/);
  });
});

describe('serve --redis: two real nodes on a real redis-server', () => {
  it('/healthz names node, shards, live nodes and Redis; a client on either node is served; SIGTERM hands over', async () => {
    redis = await RedisServer.start();
    const common = ['--redis', redis.url, '--shards', '8', '--lease-ms', '1500', '--log-level', 'warn', '--switch', 'userStatus=on'];
    const a = await startServerProcess([...common, '--node-id', 'a']);
    procs.push(a);
    const b = await startServerProcess([...common, '--node-id', 'b']);
    procs.push(b);
    const ha = await until(async () => {
      const h = await a.health();
      return h.live?.length === 2 && h.shards.length > 0 && h.shards.length < 8 ? h : null;
    }, 'a sees both nodes and owns part of the shards', 15_000);
    expect(ha).toMatchObject({ status: 'ok', mode: 'cluster', node: 'a', shardCount: 8, live: ['a', 'b'], redis: 'ready', advertise: `ws://127.0.0.1:${a.port}` });
    const hb = await until(async () => {
      const h = await b.health();
      return h.shards.length + ha.shards.length === 8 ? h : null;
    }, 'the shards split between the nodes', 15_000);
    expect(new Set([...ha.shards, ...hb.shards]).size).toBe(8);

    const users = Array.from({ length: 24 }, (_, i) => `user${i}`);
    expect(await a.rest('im_open_login_svc/multiaccount_import', { Accounts: users })).toMatchObject({ ActionStatus: 'OK' });
    // Every user on node a's socket: about half are relayed to b.
    for (const u of users) {
      const c = createClient({ url: `ws://127.0.0.1:${a.port}` });
      await c.login({ userID: u, userSig: sig(u) });
      await c.setSelfStatus({ customStatus: `on-${u}` });
      await c.destroy();
    }
    const q = await b.rest('openim/query_online_status', { To_Account: users, IsReturnCustomStatus: 1 });
    expect(q.QueryResult.map((r: any) => r.CustomStatus)).toEqual(users.map((u) => `on-${u}`));
    expect((await a.health()).relayed.client).toBeGreaterThan(0);

    expect(await b.stop('SIGTERM')).toBe(0);
    const after = await until(async () => {
      const h = await a.health();
      return h.shards.length === 8 && h.live.length === 1 ? h : null;
    }, 'a owns every shard after b handed them over', 10_000);
    expect(after.live).toEqual(['a']);
    const q2 = await a.rest('openim/query_online_status', { To_Account: users, IsReturnCustomStatus: 1 });
    expect(q2.QueryResult.map((r: any) => r.CustomStatus)).toEqual(users.map((u) => `on-${u}`));
  }, 60_000);
});
