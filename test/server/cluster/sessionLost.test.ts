// The one rule both socket front-ends apply in cluster mode (src/server/cluster/sessionLost.ts): a 2024 for a
// device the front-end still holds logged in is a session lost with its shard (reconnect), any other error the
// call's answer.
import { describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCode } from '../../../src/cluster/errors';
import { ErrorCode, StatusError, notLoggedIn } from '../../../src/errors';
import { lostSessionReason } from '../../../src/server/cluster/sessionLost';

describe('lostSessionReason', () => {
  it('a 2024 for a user the front-end holds logged in: a reason naming the user', () => {
    expect(lostSessionReason(notLoggedIn(), 'alice')).toBe("the session of user 'alice' was lost with its shard: reconnect");
  });
  it('a 2024 for a device with no user (logged out, kicked out, never logged in) is the answer', () => {
    expect(lostSessionReason(notLoggedIn(), null)).toBeNull();
    expect(lostSessionReason(notLoggedIn(), undefined)).toBeNull();
    expect(lostSessionReason(notLoggedIn(), '')).toBeNull();
  });
  it('any other error is the answer, whoever is logged in', () => {
    expect(lostSessionReason(new ClusterError(ClusterErrorCode.STORE_UNAVAILABLE, 'redis is unavailable'), 'alice')).toBeNull();
    expect(lostSessionReason(new StatusError(ErrorCode.INVALID_PARAMETER, 'bad'), 'alice')).toBeNull();
    expect(lostSessionReason(new Error('not logged in'), 'alice')).toBeNull();
    expect(lostSessionReason({ code: ErrorCode.NOT_LOGGED_IN }, 'alice')).toBeNull();
  });
});
