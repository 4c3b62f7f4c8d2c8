// CL-2 and CL-3: what a client knows of its own user, kept in step with its calls and the events about
// itself, and forgotten at logout. A self-only query is answered from here, without a round trip.
import { TYPES } from '../../machines/spec';
import type { UserStatus } from '../types';

export class SelfStatus {
  private status: UserStatus | null = null;

  get userID(): string | null {
    return this.status?.userID ?? null;
  }

  /** Takes a status of this user if it is not older than what is held (versions only grow, EXT-2). */
  take(s: UserStatus): void {
    if (this.status && s.userID !== this.status.userID) return;
    if (this.status && s.version < this.status.version) return;
    this.status = { ...s };
  }

  start(s: UserStatus): void {
    this.status = { ...s };
  }

  forget(): void {
    this.status = null;
  }

  /** The answer to `getUserStatus({userIDList: [self]})`. */
  get(): UserStatus {
    return { ...(this.status ?? { userID: '', statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 0, reason: 'registered' }) };
  }
}

/** Whether a getUserStatus list is the caller alone (GET-2, CL-2). */
export const isSelfOnly = (list: unknown, self: string | null): boolean =>
  self !== null && Array.isArray(list) && list.length > 0 && list.every((id) => id === self);
