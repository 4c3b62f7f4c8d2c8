// The behavioural suite (test/behaviour/suite.ts) through the real Web SDK: against the gateway over an
// in-process engine, and against the real `status-engine serve` process. The target's traits tell the suite
// what the SDK cannot show an app (no version or reason fields, its own 3002 after a kick); the test that needs
// what a web SDK cannot be at all (a native device) is not defined for it (nativePlatforms: false).
import { behaviourSuite } from '../behaviour/suite';
import { sdkServeTarget, sdkTarget } from './target';

behaviourSuite('sdk', sdkTarget, { nativePlatforms: false });
behaviourSuite('sdk-serve', sdkServeTarget, { nativePlatforms: false });
