// The behavioural suite (test/behaviour/suite.ts) through the current Web SDK, @tencentcloud/chat 3.x, in Node,
// against the gateway over an in-process engine: the same expectations and traits as tim-js-sdk 2.x
// (behaviour.test.ts), as both show an app the same status API. (3.x against the `status-engine serve` process:
// serve.test.ts; the suite through serve runs with 2.x, as the two speak one protocol.)
import { behaviourSuite } from '../behaviour/suite';
import { sdkTarget } from './target';

behaviourSuite('sdk-chat3', () => sdkTarget('chat3'), { nativePlatforms: false });
