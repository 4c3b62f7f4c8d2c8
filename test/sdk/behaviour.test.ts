// The behavioural suite (test/behaviour/suite.ts) through the real Web SDK: against the gateway over an
// in-process engine, and against the real `status-engine serve` process. The target's traits tell the suite
// what the SDK cannot show an app (no version or reason fields, its own 3002 after a kick); a test that needs
// what a web SDK cannot be at all (a native device) is skipped here, by clause, with the reason.
import { beforeEach } from 'vitest';
import { behaviourSuite } from '../behaviour/suite';
import { sdkServeTarget, sdkTarget } from './target';

/** Clause ID (the start of the test title) -> why the Web SDK cannot pass it as written. */
export const NOT_THROUGH_THE_SDK: Record<string, string> = {
  'DEV-3': 'a web SDK is a web device: no native platform',
};

beforeEach((ctx) => {
  const id = /^[A-Z]+-\d+/.exec(ctx.task.name)?.[0];
  const why = id ? NOT_THROUGH_THE_SDK[id] : undefined;
  if (why) ctx.skip(`not through the Web SDK: ${why}`);
});

behaviourSuite('sdk', sdkTarget);
behaviourSuite('sdk-serve', sdkServeTarget);
