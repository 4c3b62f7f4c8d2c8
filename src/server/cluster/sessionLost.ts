// Cluster mode, on both socket front-ends (the hub and the Web SDK gateway): when a call of a device the
// front-end still holds as logged in is answered 2024, the device did not log out and was not kicked out
// (those clear its user); its session died with its shard's engine (a takeover, a rebuild from Redis). That
// is not a 2024 for the client to act on (it would give up or log in from scratch) but a reason to reconnect
// and resume (EXT-2): the socket is sent away with 1012 and the call is not answered.
import { ErrorCode, StatusError } from '../../errors';

/** The 1012 close reason when `e` means the session of `userID` (the front-end's logged-in user) was lost; else null. */
export function lostSessionReason(e: unknown, userID: string | null | undefined): string | null {
  if (!(e instanceof StatusError) || e.code !== ErrorCode.NOT_LOGGED_IN || !userID) return null;
  return `the session of user '${userID}' was lost with its shard: reconnect`;
}
