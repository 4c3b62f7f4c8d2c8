// What Redis itself counts: script calls (EVALSHA + EVAL) from INFO commandstats, for the group-commit tests.
import type { Redis } from 'ioredis';

export async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

export async function scriptCalls(admin: Redis): Promise<number> {
  const c = await commandCalls(admin);
  return (c.get('evalsha') ?? 0) + (c.get('eval') ?? 0);
}
