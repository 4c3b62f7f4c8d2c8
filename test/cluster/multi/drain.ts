// The barrier of the multi-node tests' settle(): when is nothing of a change still on its way to a device? Each
// node's /healthz says what it pushed to other nodes and took from them (src/cluster/runtime.ts traffic()); the
// cluster is drained when every node answers, none is busy, every push sent was taken (sent - lost = received,
// summed over the nodes: a push counts at its sender when made and at its receiver when it arrives), and the
// counts did not move since the previous look (two looks in a row, so that one in flight between the reads of
// two nodes cannot balance another).

export interface Traffic {
  sent: number;
  lost: number;
  received: number;
  busy: boolean;
}

/** One look: each node's `pushes` (null: no answer, or a node without them). */
export function look(healths: ReadonlyArray<Record<string, unknown> | null>): Array<Traffic | null> {
  return healths.map((h) => {
    const c = h === null ? undefined : ((h.cluster ?? h) as { pushes?: Traffic }); // cluster.ts clusterHealth()
    const p = c?.pushes;
    return p !== undefined && typeof p.sent === 'number' ? p : null;
  });
}

/** Why the cluster is not drained at `now` after `before` (null: it is). */
export function notDrained(before: ReadonlyArray<Traffic | null> | null, now: ReadonlyArray<Traffic | null>): string | null {
  const i = now.findIndex((t) => t === null);
  if (i >= 0) return `node ${i + 1} gave no push counts`;
  const ts = now as Traffic[];
  const busy = ts.findIndex((t) => t.busy);
  if (busy >= 0) return `node ${busy + 1} is busy`;
  const sent = ts.reduce((n, t) => n + t.sent - t.lost, 0);
  const received = ts.reduce((n, t) => n + t.received, 0);
  if (sent !== received) return `${sent - received} push(es) sent and not taken (${sent} sent, ${received} taken)`;
  if (before === null || JSON.stringify(before) !== JSON.stringify(now)) return 'the counts moved since the last look';
  return null;
}
