// The behavioural suite (test/behaviour/suite.ts) through the real Web SDK: against the gateway over an
// in-process engine, and against the real `status-engine serve` process. A few tests ask for what the SDK
// cannot give an app (test/sdk/target.ts SDK_TRAITS); each is skipped here, by clause, with the reason.
import { beforeEach } from 'vitest';
import { behaviourSuite } from '../behaviour/suite';
import { sdkServeTarget, sdkTarget } from './target';

/** Clause ID (the start of the test title) -> why the Web SDK cannot pass it as written. */
export const NOT_THROUGH_THE_SDK: Record<string, string> = {
  'GET-4': 'the SDK cuts a list over 500 userIDs to 500 itself, silently: the server never sees the 501st',
  'SUB-5': 'the SDK cuts a list over 100 userIDs to 100 itself, silently: the server never sees the 101st',
  'SUB-2': 'the SDK rate limits itself (20 per 5 s of real time), counting calls the server refused; the server counts accepted ones only',
  'LIM-1': 'the SDK rate limits itself in real time with 2996 and no retryAfterMs, before the server (on a simulated clock) is asked',
  'DEV-4': 'after a kick the SDK refuses calls itself with 3002 (its KICKED_OUT_MULT_DEVICE), not 2024',
  'DEV-2': "the SDK's events carry no reason (EXT-1); the drop itself is checked in test/sdk/gateway.test.ts",
  'DEV-3': 'a web SDK is a web device: no native platform',
  'EXT-2': "the SDK's events carry no version; the resume itself is checked in test/sdk/status.test.ts",
};

beforeEach((ctx) => {
  const id = /^[A-Z]+-\d+/.exec(ctx.task.name)?.[0];
  const why = id ? NOT_THROUGH_THE_SDK[id] : undefined;
  if (why) ctx.skip(`not through the Web SDK: ${why}`);
});

behaviourSuite('sdk', sdkTarget);
behaviourSuite('sdk-serve', sdkServeTarget);
