// Engine bugs these tests found and reported, not yet fixed. While one is listed here (as a flag, `!strict`,
// with a comment saying what it is and how the tests step around it, narrowly) the suite stays green;
// MODEL_STRICT=1 runs without any tolerance. Remove an entry once the engine is fixed.
// None is open. Fixed so far: resume repeating the device's own change, resume pushing users that had not
// changed, foreground() on a closed link, the cleared-subscriptions notice on reconnect, heartbeat waits
// lost by replay, and a dozen bad-input crashes (all pinned in test/properties/regressions.test.ts).
export const KNOWN_BUGS: Readonly<Record<string, boolean>> = {};
