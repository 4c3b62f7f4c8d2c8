// The whole behavioural suite, in groups, in the order it runs. Every test speaks only the Client API, the
// admin operations and the target's time and socket control, so it runs against any implementation.
import type { ConformanceTest } from '../define';
import { DEVICES } from './devices';
import { GATES, LIMITS, NOTIFICATIONS } from './notifications';
import { CUSTOM_STATUS, QUERY } from './status';
import { SUBSCRIBE, UNSUBSCRIBE } from './subscriptions';

export interface TestGroup {
  readonly name: string;
  readonly tests: readonly ConformanceTest[];
}

export const SUITE: readonly TestGroup[] = Object.freeze([
  { name: 'custom status (CS)', tests: CUSTOM_STATUS },
  { name: 'query (GET)', tests: QUERY },
  { name: 'subscribe (SUB)', tests: SUBSCRIBE },
  { name: 'unsubscribe (UNSUB)', tests: UNSUBSCRIBE },
  { name: 'notifications (NTF)', tests: NOTIFICATIONS },
  { name: 'gates (GATE)', tests: GATES },
  { name: 'limits (LIM)', tests: LIMITS },
  { name: 'devices, sync and reconnect (DEV, EXT-2)', tests: DEVICES },
]);

/** Every test of the suite, in order. */
export const conformanceTests: readonly ConformanceTest[] = Object.freeze(SUITE.flatMap((g) => g.tests));
