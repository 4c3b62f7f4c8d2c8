// Engine bugs these tests found and reported, not yet fixed. While one is listed here the model-based
// property steps around it (narrowly, as each comment says) so the suite stays green; MODEL_STRICT=1 runs
// the strict property. Remove an entry once the engine is fixed.
const strict = process.env.MODEL_STRICT === '1';

export const KNOWN_BUGS = {
  /**
   * EXT-2: after reconnect() or foreground() the device hears its own user's change twice: once live and
   * once more in the resume batch (same version). Tolerated: an exact repeat, back to back, of the
   * device's own user's entry.
   */
  resumeRepeatsSelf: !strict,
  /**
   * EXT-2: resume also sends users in view that changed while the device was still connected (e.g. before
   * it subscribed to them), not only those that changed while it was away; SUB-9 says a subscription
   * pushes nothing. Tolerated: extra resume entries that are the current status of a user in the device's
   * view at a version the device has not heard.
   */
  resumeSendsUnchanged: !strict,
  /**
   * DEV-3/ST-4: foreground() on a native device whose link is closed (link_closed, or after the heartbeat
   * timeout) counts the device as connected again (the user turns ONLINE) although the link stays down:
   * its calls get 2800, it hears nothing, and no timeout will ever drop it. Stepped around: foreground()
   * is not generated while the device's link is closed.
   */
  foregroundConnectsClosedLink: !strict,
  /**
   * EXT-4: when a dropped web device logs in again through reconnect(), its user's pending
   * "subscriptions_cleared" notice is not told; it waits for a later login() (when it is stale). Stepped
   * around: the model keeps the notice pending over a reconnect() that logs in again.
   */
  clearedNoticeSkipsReconnect: !strict,
  /**
   * EXT-3: a device's heartbeat wait (disconnect('network_lost')) is neither journaled nor in
   * exportState().timers, so an engine rebuilt by replay() never times the silent device out: it stays
   * ONLINE for good. Stepped around: the replay property lets time run on only when no device is silent.
   */
  heartbeatNotDurable: !strict,
} as const;
