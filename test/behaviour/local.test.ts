// The behavioural suite against the in-process client over an engine on a SimulatedClock.
import { behaviourSuite } from './suite';
import { localTarget } from './targets';

behaviourSuite('local', localTarget);
