// A bound on the asynchronous call path (cluster mode): a prepare or an acknowledgement that never settles
// (a node that stopped answering, a bug) must not wedge a connection, whose frames run one at a time. Past
// the deadline the call is answered with a clear code and the connection goes on: 75007 when the prepare
// did not finish (the call was not made), 75002 when the acknowledgement did not come (made, durability
// unknown). On the injected clock.
import type { Clock } from '../../clock';
import { ClusterError, ClusterErrorCode } from '../../cluster/errors';

/** Well past a forwarded call's timeout (2 s) and a Redis command's (2 s): only a wedged call reaches it. */
export const CALL_DEADLINE_MS = 10_000;

export type Stage = 'prepare' | 'acknowledge';

export function withDeadline<T>(clock: Clock, ms: number, stage: Stage, p: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(
        stage === 'prepare'
          ? new ClusterError(ClusterErrorCode.FORWARD_TIMEOUT, `the call could not be prepared within ${ms} ms (another node did not answer); it was not made: retry`)
          : new ClusterError(ClusterErrorCode.OUTCOME_UNKNOWN, `the call was not acknowledged within ${ms} ms: it may or may not be durable`),
      );
    }, ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}
