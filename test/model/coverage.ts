// How often the random runs reach each interesting situation (a kick, an eviction, a rate refusal, a
// resume...). Printed with MODEL_STATS=1, so that a change of the generators that stops reaching one shows.
export const reached = new Map<string, number>();

export function reach(label: string): void {
  reached.set(label, (reached.get(label) ?? 0) + 1);
}

export function report(): string {
  return [...reached.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k.padEnd(40)} ${v}`)
    .join('\n');
}
