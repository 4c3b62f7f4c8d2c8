// The behavioural suite (test/behaviour/suite.ts) through the current Web SDK, @tencentcloud/chat 3.x, in Node:
// against the gateway over an in-process engine and against the real `status-engine serve` process, with the
// same expectations and traits as tim-js-sdk 2.x (behaviour.test.ts): both show an app the same status API.
import { behaviourSuite } from '../behaviour/suite';
import { sdkServeTarget, sdkTarget } from './target';

behaviourSuite('sdk-chat3', () => sdkTarget('chat3'), { nativePlatforms: false });
behaviourSuite('sdk-serve-chat3', () => sdkServeTarget('chat3'), { nativePlatforms: false });
