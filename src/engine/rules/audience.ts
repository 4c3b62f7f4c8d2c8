// NTF-2 (b)/(c) with NTF-4: who may hear of a user's change. Whether they do is then the broker's part
// (NTF-5: only receiving devices get it). Pure: sets in, a list out.

export interface Listeners {
  /** Who subscribes to the user (NTF-2 b). */
  subscribers: ReadonlySet<string> | undefined;
  /** Who lists the user as a friend (NTF-2 c). */
  followers: ReadonlySet<string> | undefined;
}

export interface Gates {
  /** NTF-4 / GATE-2/3: the edition has user status and its switch is on, now. */
  userStatus: boolean;
  /** NTF-3: friend status auto-notification is on. */
  friendNotify: boolean;
}

/**
 * Everyone who may hear, each once (NTF-2 "told once"), subscribers first, in the order they were found.
 * Written into `out` (its old contents go; the fan-out lends one array per outbox slot, so a change allocates
 * no list of its own) and returned.
 */
export function audience(l: Listeners, g: Gates, out: string[] = []): string[] {
  const subscribers = g.userStatus ? l.subscribers : undefined;
  const followers = g.friendNotify ? l.followers : undefined;
  let n = 0;
  if (subscribers) for (const s of subscribers) out[n++] = s;
  if (followers) for (const f of followers) if (subscribers === undefined || !subscribers.has(f)) out[n++] = f;
  out.length = n;
  return out;
}

/** Whether `viewer` would hear of the user's changes now. */
export function mayHear(viewer: string, l: Listeners, g: Gates): boolean {
  if (g.userStatus && l.subscribers?.has(viewer) === true) return true;
  return g.friendNotify && l.followers?.has(viewer) === true;
}
