// The chaos smoke of issue 13 item 6, with real processes: redis-server and three `serve --redis` nodes,
// remote clients with the three URLs under load. kill -9 of a node (its clients go on through the others),
// SIGSTOP of a node longer than the lease (it wakes fenced) and shorter (it keeps its shards), kill -9 of
// Redis and restart (calls fail with a clear code meanwhile, the service comes back by itself). Each ends
// with the checker over what the clients recorded and the REST truth: nothing acknowledged lost, nothing
// applied twice, no version regression, every view equal to the truth, no ghost after 2 x the heartbeat
// timeout. No timing is asserted: waits are for events (health, acks), with generous limits.
import { afterEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/cluster/shardMap';
import { checkHistory, summarize, type ChaosReport } from './checker';
import { Cluster, clusterHealth, type NodeProcess } from './cluster';
import { Fleet, type FleetDevice } from './fleet';

/** The web heartbeat timeout the nodes run with (short, so that a ghost would show within the test). */
const WEB_TIMEOUT_MS = 5000;
export const CHAOS_ARGS = ['--heartbeat-ms', '2000', '--limit', `webHeartbeatTimeoutMs=${WEB_TIMEOUT_MS}`];
/** How long views may take to reach the truth once the load stopped (the cluster's resync after a takeover). */
const QUIET_MS = 10_000;
/**
 * Defects of the cluster this smoke finds and that are open: printed, not failed, so that `npm test` stays green while
 * they are. Lost acks, reused versions and ghosts always fail, listed or not. Empty now: the duplicate deliveries after
 * a Redis restart (a resume prepared while the session still received: test/cluster/service/resume.race.memory.test.ts)
 * are fixed and fail the smoke again.
 */
const KNOWN_AFTER_REDIS_RESTART: Record<string, string> = {};

async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Who served which shard when, as the nodes' /healthz said (polled every 250 ms while the test runs): for a failure's
 * message, so that a stale view or a duplicate names the history of the shard its change came from.
 */
class OwnerLog {
  private readonly t0 = Date.now();
  private readonly held = new Map<string, Set<number>>();
  private readonly log = new Map<number, string[]>();
  private stopped = false;
  private readonly running: Promise<void>;
  constructor(private readonly cluster: Cluster) {
    this.running = this.run();
  }
  private async run(): Promise<void> {
    while (!this.stopped) {
      await Promise.all(
        this.cluster.nodes.filter((n) => n.alive).map(async (n) => {
          const h = await n.health();
          if (h === null || this.stopped) return; // frozen, or gone
          const now = new Set(clusterHealth(h).shards ?? []);
          const before = this.held.get(n.id) ?? new Set<number>();
          const at = ((Date.now() - this.t0) / 1000).toFixed(1);
          for (const x of now) if (!before.has(x)) this.note(x, `${n.id} from ${at}s`);
          for (const x of before) if (!now.has(x)) this.note(x, `${n.id} gone by ${at}s`);
          this.held.set(n.id, now);
        }),
      );
      await sleep(250);
    }
  }
  private note(shard: number, what: string): void {
    this.log.set(shard, [...(this.log.get(shard) ?? []), what]);
  }
  of(shard: number): string {
    return (this.log.get(shard) ?? ['never seen']).join(', ');
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** A failure's details: per stale view, duplicate or regression, the device, what it heard of that user against the
 * truth, the user's acks and failed calls, and the owner history of the user's shard (where the change came from). */
function explain(report: ChaosReport, fleet: Fleet, truth: Map<string, { version: number; customStatus: string }>, owners: OwnerLog, shards: number): string {
  const devices = new Map(fleet.devices.map((d) => [d.client.deviceId, d]));
  const about = (deviceId: string | undefined, userID: string, what: string) => {
    const d = deviceId === undefined ? undefined : devices.get(deviceId);
    const t = truth.get(userID);
    const heard = fleet.heard.filter((x) => x.deviceId === deviceId && x.status.userID === userID).map((x) => `${x.kind ?? 'push'} v${x.status.version} '${x.status.customStatus}'`);
    const acks = fleet.acks.filter((a) => a.userID === userID).slice(-3).map((a) => `v${a.version} '${a.customStatus}'`);
    const failed = fleet.failures.filter((f) => f.userID === userID).slice(-3).map((f) => `'${f.customStatus}' ${f.code}`);
    const dev = d === undefined ? 'no device' : `the device of ${d.userID} (home node n${d.home + 1}, its shard ${shardOf(d.userID, shards)}: ${owners.of(shardOf(d.userID, shards))})`;
    return (
      `- ${what}: ${dev}, about ${userID} (truth v${t?.version} '${t?.customStatus}')\n  heard: ${heard.join(' | ') || 'nothing'}\n` +
      `  last acks of ${userID}: ${acks.join(', ') || 'none'}; last failed sets: ${failed.join(', ') || 'none'}\n  shard ${shardOf(userID, shards)} of ${userID}: ${owners.of(shardOf(userID, shards))}`
    );
  };
  return [
    ...report.staleViews.slice(0, 5).map((v) => about(v.deviceId, v.userID, `stale view v${v.view?.version ?? '-'}`)),
    ...report.duplicates.slice(0, 5).map((x) => about(x.deviceId, x.userID, `duplicate (${x.kind}) v${x.versions.join('/')}`)),
    ...report.regressions.slice(0, 5).map((x) => about(x.deviceId, x.userID, `regression v${x.after} -> v${x.got}`)),
  ].join('\n');
}

interface World {
  cluster: Cluster;
  fleet: Fleet;
  ids: string[];
  devices: FleetDevice[];
  /** Starts the load; the returned function stops it and waits for the calls in flight. */
  load(): () => Promise<void>;
  /** Acks so far of the devices homed at node `i`. */
  acksOf(home: number): number;
  /** Settles the fleet and checks the history against the truth. */
  check(known?: Record<string, string>): Promise<void>;
}

/** Ends the current test's OwnerLog (its polling), whatever the test did. */
let stopOwners: (() => Promise<void>) | undefined;

async function world(cluster: Cluster, devices = 24, doomed: string[] = []): Promise<World> {
  const fleet = new Fleet((h) => cluster.urlsFrom(h));
  const ids = Array.from({ length: devices }, (_, i) => `cz${i}`);
  await cluster.enableUserStatus();
  await cluster.register([...ids, ...doomed]);
  const ds = await fleet.login(ids, (i) => i % cluster.nodes.length);
  for (const [i, d] of ds.entries()) {
    const follows = [ids[(i + 1) % devices]!, ids[(i + 5) % devices]!];
    if (doomed.length > 0) follows.push(doomed[i % doomed.length]!);
    await fleet.follow(d, follows);
  }
  const homeOf = new Map(ds.map((d) => [d.userID, d.home]));
  const owners = new OwnerLog(cluster);
  stopOwners = () => owners.stop();
  return {
    cluster,
    fleet,
    ids,
    devices: ds,
    load() {
      let stop = false;
      const running = fleet.load(ds, 6, () => stop);
      return async () => {
        stop = true;
        await running;
      };
    },
    acksOf: (home) => fleet.acks.filter((a) => homeOf.get(a.userID) === home).length,
    async check(KNOWN = {}) {
      await fleet.settle();
      // Quiescence: the load is stopped and every device answers; a node that took shards resyncs their devices
      // two rounds later (2 x tickMs, under a second with the 2 s lease), so views get up to QUIET_MS to reach the
      // truth. A push truly lost and never recovered stays stale past it and fails below.
      const truth = await cluster.queryStatus([...ids, ...doomed]);
      let report = checkHistory(fleet.history(truth));
      const quietFrom = Date.now();
      for (const end = quietFrom + QUIET_MS; report.staleViews.length > 0 && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 250));
        report = checkHistory(fleet.history(truth));
      }
      if (Date.now() - quietFrom >= 250) console.warn(`chaos: views reached the truth ${Date.now() - quietFrom} ms after the load stopped (stale now: ${report.staleViews.length})`);
      const counts: Record<string, number> = {
        lost: report.lost.length,
        reused: report.reused.length,
        duplicates: report.duplicates.length,
        regressions: report.regressions.length,
        staleViews: report.staleViews.length,
        ghosts: report.ghosts.length,
        kicked: fleet.kicked.length, // every client resumed: none refused
      };
      const strict = Object.fromEntries(Object.entries(counts).filter(([k]) => KNOWN[k] === undefined || ['lost', 'reused', 'ghosts'].includes(k)));
      const known = Object.entries(counts).filter(([k, v]) => KNOWN[k] !== undefined && v > 0);
      if (known.length > 0) console.warn(`chaos: known defects seen (not failed): ${known.map(([k, v]) => `${k} ${v} (${KNOWN[k]})`).join('; ')}`);
      await owners.stop();
      const why = report.ok ? '' : `\n${explain(report, fleet, new Map(truth.map((t) => [t.userID, t])), owners, cluster.shards)}`;
      expect(strict, summarize(report) + why).toEqual(Object.fromEntries(Object.keys(strict).map((k) => [k, 0])));
      expect(fleet.acks.length).toBeGreaterThan(0);
    },
  };
}

describe('chaos (3 node processes, redis-server)', () => {
  let cluster: Cluster | undefined;
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await stopOwners?.();
    stopOwners = undefined;
    await fleet?.destroy();
    await cluster?.stop();
    fleet = cluster = undefined;
  });

  it('kill -9 of a node under load: its clients resume through the others; nothing lost, no duplicate, no regression, views = truth, no ghost after 2 x the heartbeat timeout', async () => {
    cluster = await Cluster.start({ nodes: 3, shards: 16, args: CHAOS_ARGS });
    const doomedIds = ['gz0', 'gz1', 'gz2'];
    const w = await world(cluster, 24, doomedIds);
    fleet = w.fleet;
    const victim = cluster.nodes[2]!;
    // Devices that know only the victim: they are gone with it and never come back.
    const doomed = await w.fleet.login(doomedIds, () => 2, { pinned: true });
    const stop = w.load();
    await until(() => w.fleet.acks.length >= 60, 'acks before the kill');
    await victim.kill9();
    const killedAt = Date.now();
    for (const d of doomed) await w.fleet.abandon(d);
    const before = w.acksOf(2);
    // The victim's clients go on through the other nodes: acknowledged calls again, with nobody restarting it.
    await until(() => w.acksOf(2) >= before + 20, 'acks from the devices homed at the killed node', 60_000);
    await cluster.settled(60_000);
    await stop();
    await sleep(Math.max(0, killedAt + 2 * WEB_TIMEOUT_MS - Date.now()));
    await w.check();
    expect(w.fleet.history([]).gone.sort()).toEqual(doomedIds);
  }, 150_000);

  it('SIGSTOP of a node longer than the lease: the others take its shards; it wakes fenced and writes nothing', async () => {
    cluster = await Cluster.start({ nodes: 3, shards: 16, args: CHAOS_ARGS });
    const w = await world(cluster);
    fleet = w.fleet;
    const frozen = cluster.nodes[1]!;
    const owners = await cluster.owners();
    const itsShards = [...owners].filter(([, n]) => n === frozen.id).map(([s]) => s);
    expect(itsShards.length).toBeGreaterThan(0);
    const stop = w.load();
    await until(() => w.fleet.acks.length >= 40, 'acks before the freeze');
    frozen.pause();
    const others = cluster.nodes.filter((x) => x !== frozen);
    const taken = await cluster.settled(60_000, others); // its lease ran out: every shard owned by the two others
    for (const s of itsShards) expect(taken.get(s)).not.toBe(frozen.id);
    const before = w.acksOf(1);
    await until(() => w.acksOf(1) >= before + 10, 'acks from the frozen node\'s devices through the others', 60_000);
    frozen.resume();
    await cluster.settled(60_000); // it rejoins: gets shards back by handoff, never by writing with its stale lease
    await until(() => w.fleet.acks.length >= before + 40, 'acks after it woke');
    await stop();
    // Had it written with its old token, a version would name two statuses (lost) or a call be applied twice.
    await w.check();
  }, 150_000);

  it('SIGSTOP of a node shorter than the lease: it keeps its shards and goes on', async () => {
    cluster = await Cluster.start({ nodes: 3, shards: 16, args: CHAOS_ARGS });
    const w = await world(cluster);
    fleet = w.fleet;
    const paused = cluster.nodes[0]!;
    const owners = await cluster.owners();
    const stop = w.load();
    await until(() => w.fleet.acks.length >= 40, 'acks before the pause');
    paused.pause();
    await sleep(SHORT_PAUSE_MS);
    paused.resume();
    const n = w.fleet.acks.length;
    await until(() => w.fleet.acks.length >= n + 40, 'acks after the pause');
    await stop();
    const after = await cluster.settled(30_000);
    expect(after).toEqual(owners); // nobody took over
    await w.check();
  }, 120_000);

  it('kill -9 of Redis under load, then restart: calls fail with a clear code meanwhile; the service comes back by itself; nothing acknowledged lost', async () => {
    cluster = await Cluster.start({ nodes: 3, shards: 16, args: CHAOS_ARGS });
    const w = await world(cluster);
    fleet = w.fleet;
    const stop = w.load();
    await until(() => w.fleet.acks.length >= 40, 'acks before the kill');
    await cluster.redis!.kill();
    const failed0 = w.fleet.failures.length;
    await until(() => w.fleet.failures.length >= failed0 + 10, 'calls failing while Redis is down');
    const h = (await cluster.nodes[0]!.health())!;
    expect(clusterHealth(h).redis).not.toBe('ready');
    expect(h.status).not.toBe('ok');
    const codes = new Set(w.fleet.failures.slice(failed0).map((f) => f.code));
    const seenKnown = [...codes].filter((c) => REDIS_DOWN_KNOWN[c] !== undefined);
    if (seenKnown.length > 0) console.warn(`chaos: known defects seen (not failed): ${seenKnown.map((c) => `${c} (${REDIS_DOWN_KNOWN[c]})`).join('; ')}`);
    expect([...codes].every((c) => REDIS_DOWN_CODES.includes(c) || REDIS_DOWN_KNOWN[c] !== undefined), `codes while Redis was down: ${[...codes].join(', ')} (${w.fleet.failures.slice(failed0, failed0 + 3).map((f) => f.message).join('; ')})`).toBe(true);
    await cluster.redis!.restart(); // same port, same AOF: nobody touches the nodes
    await cluster.settled(60_000);
    const n = w.fleet.acks.length;
    await until(() => w.fleet.acks.length >= n + 40, 'acks after Redis came back');
    await stop();
    await w.check(KNOWN_AFTER_REDIS_RESTART);
  }, 150_000);
});

/** Shorter than the lease (see CHAOS_ARGS and the cluster's lease): the node must not lose its shards. */
const SHORT_PAUSE_MS = 1000;
/** What a call gets while Redis is away: STORE_UNAVAILABLE, OUTCOME_UNKNOWN (src/cluster/errors.ts), or the client's own
 * NOT_CONNECTED / REQUEST_TIMEOUT when its socket is closed under it (1012: its shard's lease ran out) or not answered. */
const REDIS_DOWN_CODES = [75001, 75002, 2800, 2801];
/**
 * Codes seen while Redis is down that are known defects: printed, not failed, while open (none now). The 2024 of
 * stop 9 (a call made while the server was closing its socket opened a new one without resuming there) is fixed
 * in src/client/connection.ts (test/client/closing.test.ts) and fails this smoke again if it comes back.
 */
const REDIS_DOWN_KNOWN: Record<number, string> = {};
