// How the status machine drives the subscription machine (UNSUB-5) and what the subscriber is told of an
// ending it did not ask for (EXT-4). Pure: statuses and emitted endings in, machine events and notices out.
import { TYPES, type StatusType } from '../../../machines/spec';
import type { Notice } from '../../records';

/** UNSUB-5: a user going UNLOGINED starts its list's clearing delay; coming back keeps the list. */
export function ownerEvent(before: StatusType, after: StatusType): 'OWNER.LOGGED_OUT' | 'OWNER.LOGGED_IN' | null {
  const wasOut = before === TYPES.USER_STATUS_UNLOGINED;
  const isOut = after === TYPES.USER_STATUS_UNLOGINED;
  if (!wasOut && isOut) return 'OWNER.LOGGED_OUT';
  if (wasOut && !isOut) return 'OWNER.LOGGED_IN';
  return null;
}

export type Ending =
  /** Told at once (the subscriber is there: it just subscribed). */
  | { tell: { userIDList: string[]; reason: 'subscription_evicted' } }
  /** Kept for the subscriber's next login (it is away: the list was cleared after its logout). */
  | { keep: Notice };

/** EXT-4: an ending of subscriptions, by its reason. Endings asked for (unsubscribe) are not told. */
export function endingOf(reason: string, userIDs: readonly string[]): Ending | null {
  if (userIDs.length === 0) return null;
  if (reason === 'subscription_evicted') return { tell: { userIDList: [...userIDs], reason } };
  if (reason === 'subscriptions_cleared') return { keep: { userIDList: [...userIDs], reason } };
  return null;
}
