// The behavioural suite against the real server process (`serve --clock simulated` on 127.0.0.1), driven by
// the remote client over the client protocol and by the admin REST API.
import { behaviourSuite } from './suite';
import { remoteTarget } from './targets';

behaviourSuite('remote', remoteTarget);
