// CL-2 and CL-3: what a client knows of its own user, kept in step with its calls and the events about
// itself, and forgotten at logout. A self-only query is answered from here, without a round trip.
import { TYPES } from '../../machines/spec';
import type { UserStatus } from '../types';

export class SelfStatus {
  private status: UserStatus | null = null;
  /** The user's id, or null, kept apart from `status` (the client keeps a copy of it: src/client/base.ts). */
  private id: string | null = null;

  /** `onUser` is told each change of the user's id (the client keeps a copy: src/client/base.ts). */
  constructor(private readonly onUser?: (id: string | null) => void) {}

  get userID(): string | null {
    return this.id;
  }

  /** Takes a status of this user if it is not older than what is held (versions only grow, EXT-2). */
  take(s: UserStatus): void {
    if (this.status && s.userID !== this.status.userID) return;
    if (this.status && s.version < this.status.version) return;
    this.status = { ...s };
    this.setID(s.userID);
  }

  start(s: UserStatus): void {
    this.status = { ...s };
    this.setID(s.userID);
  }

  forget(): void {
    this.status = null;
    this.setID(null);
  }

  private setID(id: string | null): void {
    if (id === this.id) return;
    this.id = id;
    this.onUser?.(id);
  }

  /** The answer to `getUserStatus({userIDList: [self]})`. */
  get(): UserStatus {
    return { ...(this.status ?? { userID: '', statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 0, reason: 'registered' }) };
  }
}

/** Whether a getUserStatus list is the caller alone (GET-2, CL-2). */
export function isSelfOnly(list: unknown, self: string | null): boolean {
  if (self === null || !Array.isArray(list) || list.length === 0) return false;
  // Index access: a hole in a sparse array is not the caller, and must reach the validation (6017).
  for (let i = 0; i < list.length; i++) if (list[i] !== self) return false;
  return true;
}
