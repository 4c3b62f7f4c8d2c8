// What the front-ends (hub, gateway) know of the cluster: this node, who owns a user, and where a client
// goes whose user another node owns (its relay). `routeLogin` is the one decision, shared by both.
import { ErrorCode, StatusError } from '../../errors';
import type { RelayContext } from './relay';

export interface FrontCluster {
  readonly nodeId: string;
  ownerOf(userID: string): string | null;
  shardOf(userID: string): number;
  readonly relays: RelayContext;
}

/** `refuse`: answered with the error, then the socket is closed (1012) so that the client reconnects and asks again. */
export type Route = { kind: 'local' } | { kind: 'relay'; node: string } | { kind: 'refuse'; error: StatusError };

/** How long a client waits before trying again while a shard has no owner (a takeover in progress). */
export const NO_OWNER_RETRY_MS = 1000;

/**
 * Where a login of `userID` on this node is served: here (this node owns the user's shard), relayed to
 * the owner, or refused (nobody owns it right now; or it came relayed and this node is no longer the
 * owner: no second hop). A refused client is closed after the answer: it reconnects with its backoff
 * (our client, the Web SDK) and the node it reaches asks again, by then with an owner.
 */
export function routeLogin(c: Pick<FrontCluster, 'nodeId' | 'ownerOf'>, userID: string, viaRelay: boolean): Route {
  const owner = c.ownerOf(userID);
  if (owner === c.nodeId) return { kind: 'local' };
  if (owner === null) {
    return {
      kind: 'refuse',
      error: new StatusError(ErrorCode.NOT_OWNER, `no node owns the shard of user '${userID}' right now (a takeover in progress): retry in a moment`, { retryAfterMs: NO_OWNER_RETRY_MS }),
    };
  }
  if (viaRelay) {
    return { kind: 'refuse', error: new StatusError(ErrorCode.NOT_OWNER, `this node no longer owns the shard of user '${userID}' (node ${owner} does): reconnect`) };
  }
  return { kind: 'relay', node: owner };
}
