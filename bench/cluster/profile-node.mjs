// Preloaded into each node process by part 8 when STATUS_ENGINE_BENCH_CLUSTER_PROF=DIR (NODE_OPTIONS="--import
// this", as Node 20 refuses --cpu-prof in NODE_OPTIONS): a V8 CPU profile from start to exit, written to
// DIR/node-PID.cpuprofile (the same format as --cpu-prof; bench/lib/cpuprofile.ts reads it; bench/cluster/profdiff.ts
// compares two runs' profiles per change).
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.STATUS_ENGINE_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.STATUS_ENGINE_PROFILE_INTERVAL_US ?? 1000) });
  session.post('Profiler.start');
  // SIGUSR2 starts the profile afresh (part 8 sends it when the load begins): start-up is left out.
  process.on('SIGUSR2', () => session.post('Profiler.stop', () => session.post('Profiler.start')));
  process.on('exit', () => {
    // A session of this thread answers at once: the profile is written before the process ends.
    session.post('Profiler.stop', (err, r) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `node-${process.pid}.cpuprofile`), JSON.stringify(r.profile));
    });
  });
}
