// NTF-6 "each change once" per device on a cluster node: what a device is handed of each user, by version.
// Several paths reach one device (live pushes held until durable, pushes from other nodes, the resume by
// versions after a takeover, a hole or a comeback, which also sends the comeback's own change), and they
// race; this keeps only the statuses newer than what the device was already handed.
import { EVENT, type ClientEvent } from '../events';
import type { UserStatus } from '../records';

export class HandedOnce {
  /** `viewer \0 user` -> the newest version handed (the viewer is part of the key: a view depends on it). */
  private readonly handed = new Map<string, number>();

  /** What was handed since a resume on a new socket began (see resuming()), until its holds(). */
  private sinceResume: Map<string, number> | undefined;

  /**
   * A resume on a new socket begins: the device is bound to that socket already (what is handed from now on
   * goes out on it and arrives), while the client's versions were taken when it sent the resume.
   */
  resuming(): void {
    this.sinceResume = new Map();
  }

  /**
   * What a resuming client says it holds (its versions) is what it was handed: handing those again would be
   * a duplicate, and what it does not hold (handed to a socket that died) must be handed again. What was
   * handed since the resume began went out on the new socket: the client has that too.
   */
  holds(viewer: string, versions: Readonly<Record<string, number>> | undefined): void {
    const since = this.sinceResume;
    this.sinceResume = undefined;
    if (versions === undefined) return;
    const prefix = `${viewer}\u0000`;
    for (const k of [...this.handed.keys()]) if (k.startsWith(prefix)) this.handed.delete(k);
    for (const [u, v] of Object.entries(versions)) if (typeof v === 'number') this.handed.set(prefix + u, v);
    for (const [k, v] of since ?? []) if (k.startsWith(prefix) && v > (this.handed.get(k) ?? -Infinity)) this.handed.set(k, v);
  }

  /** Forget what was handed of `users` (all: every user), so that their current status is handed again: a
   * fresh login, a subscription asking for the current status (pushCurrent). */
  forget(users?: readonly string[]): void {
    if (users === undefined) return this.handed.clear();
    const set = new Set(users);
    for (const k of [...this.handed.keys()]) if (set.has(k.slice(k.indexOf('\u0000') + 1))) this.handed.delete(k);
  }

  /** The event to hand the device (statuses it already has, or newer ones, left out), or null: nothing new. */
  admit(viewer: string | null, event: ClientEvent): ClientEvent | null {
    if (event.name !== EVENT.USER_STATUS_UPDATED || !Array.isArray(event.data)) return event;
    const fresh: UserStatus[] = [];
    for (const s of event.data) {
      const k = `${viewer ?? ''}\u0000${s.userID}`;
      const had = this.handed.get(k);
      if (had !== undefined && s.version <= had) continue;
      this.handed.set(k, s.version);
      this.sinceResume?.set(k, s.version);
      fresh.push(s);
    }
    if (fresh.length === 0) return null;
    return fresh.length === event.data.length ? event : { ...event, data: fresh };
  }
}
