// Part 7 at a smaller count, for a before/after of two source trees: each tree's server holds N logged-in
// clients with heartbeats, in turns (A, B, A, B ...), and the RSS per connection and heartbeat CPU are printed.
//   node --import tsx bench/net/held.ts --base /tmp/old-tree [--aim 10000] [--targets ws,sdk] [--rounds 1]
//     [--base-flags '...' --flags '...': the servers' node flags (default SERVE_NODE_FLAGS); with --base . a before/after of a flag]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { runConnections, type ConnTarget } from './connections';
import { SERVE_NODE_FLAGS } from './fleet';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const trees = [args.get('base'), args.get('code') ?? '.'].filter((x): x is string => Boolean(x)).map((x) => resolve(x));
const aim = Number(args.get('aim') ?? 10_000);
const targets = (args.get('targets') ?? 'ws,sdk').split(',') as ConnTarget[];
const rounds = Number(args.get('rounds') ?? 1);
const flagsOf = (k: string) => (args.has(k) ? args.get(k)!.split(' ').filter(Boolean) : undefined);
const variants = trees.map((code, i) => ({ code, nodeFlags: flagsOf(i === trees.length - 1 ? 'flags' : 'base-flags') }));
for (let r = 0; r < rounds; r++) {
  for (const target of targets) {
    for (const { code, nodeFlags } of r % 2 === 0 ? variants : [...variants].reverse()) {
      const [run] = await runConnections({ code, scale: 'quick', seed: 7, log: () => undefined, aim, targets: [target], nodeFlags });
      const x = run!;
      console.log(
        `${code.padEnd(22)} [${(nodeFlags ?? SERVE_NODE_FLAGS).join(' ') || "node's defaults"}] ${target.padEnd(3)} ${x.held} held: rss ${(x.rssBefore / 2 ** 20).toFixed(0)} -> ${(x.rssAfter / 2 ** 20).toFixed(0)} MiB, ` +
          `${(x.rssPerConnection / 1024).toFixed(1)} KiB per connection (young generation ${x.newSpaceAfter ? (x.newSpaceAfter / 2 ** 20).toFixed(0) : '?'} MiB of it); login ${(x.loginMs / 1000).toFixed(1)} s; heartbeat CPU ${x.heldCpuMsPerSec.toFixed(0)} ms/s ` +
          `(idle ${x.idleCpuMsPerSec.toFixed(0)}), ${x.heartbeatsPerSec.toFixed(0)} frames/s; closed ${x.closed}; load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  }
}
