// The targets of our own behavioural runs: the package's in-process target, and the package's network
// target against the real server process (`serve --clock simulated`, whose test hooks give time control
// and server-side drops), set up over the REST admin.
import { localTarget as packagedLocalTarget } from '../../src/conformance/targets/local';
import { networkTarget } from '../../src/conformance/targets/network';
import type { Target } from '../../src/conformance/target';
import { SDK_APP_ID, SECRET, startServerProcess } from '../server/proc';

export const localTarget = (): Promise<Target> => packagedLocalTarget();

const HEARTBEAT_MS = 10_000;

export async function remoteTarget(): Promise<Target> {
  const server = await startServerProcess(['--clock', 'simulated', '--store', 'memory', '--heartbeat-ms', String(HEARTBEAT_MS)]);
  const target = await networkTarget({ url: server.url.replace(/^http/, 'ws'), admin: server.url, sdkAppId: SDK_APP_ID, secretKey: SECRET, heartbeatMs: HEARTBEAT_MS });
  return {
    ...target,
    name: 'remote',
    async close() {
      await target.close();
      const code = await server.stop();
      if (code !== 0) throw new Error(`server exited with ${code}:\n${server.log()}`);
    },
  };
}
