// Forwarding a call to the owner of a user's shard: replies in call order, a lost message becomes a
// FORWARD_TIMEOUT on the simulated clock, an absent node fails at once, errors keep their code.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterErrorCode } from '../../src/cluster/errors';
import { Forwarder } from '../../src/cluster/forward';
import { createMemoryCluster, MemoryStore } from '../../src/cluster/memory';
import type { Bus } from '../../src/cluster/types';
import { StatusError } from '../../src/errors';

const tick = () => new Promise((r) => setImmediate(r));

async function pair(serve: (shard: number, body: unknown) => Promise<unknown>, wrapOwnerBus?: (b: Bus) => Bus) {
  const store = new MemoryStore();
  const clock = new SimulatedClock();
  const mk = () => createMemoryCluster(store, { clock, leaseTtlMs: 1_000, heartbeatTtlMs: 1_000 });
  const a = mk();
  const b = mk();
  const asker = new Forwarder({ me: 'a', bus: a.bus, clock, timeoutMs: 500, serve: async () => undefined });
  const owner = new Forwarder({ me: 'b', bus: wrapOwnerBus ? wrapOwnerBus(b.bus) : b.bus, clock, timeoutMs: 500, serve });
  await a.bus.subscribe('a', (m) => asker.handle(m));
  await b.bus.subscribe('b', (m) => owner.handle(m));
  return { clock, asker, owner };
}

describe('forwarding', () => {
  it('replies reach the callers in call order even when the owner answers out of order', async () => {
    const release: Array<() => void> = [];
    const served: unknown[] = [];
    const { asker } = await pair((_s, body) => {
      served.push(body);
      return new Promise((r) => release.push(() => r({ echo: body })));
    });
    const settled: number[] = [];
    const calls = [0, 1, 2].map((i) => asker.request('b', 3, i).then(() => settled.push(i)));
    while (release.length < 3) await tick();
    expect(served).toEqual([0, 1, 2]); // served in arrival order
    release[2]!();
    release[1]!();
    await tick();
    await tick();
    expect(settled).toEqual([]); // 1 and 2 wait for 0
    release[0]!();
    await Promise.all(calls);
    expect(settled).toEqual([0, 1, 2]);
  });

  it("an owner's error comes back with its code", async () => {
    const { asker } = await pair(async () => {
      throw new StatusError(70107, 'user not found');
    });
    await expect(asker.request('b', 1, {})).rejects.toMatchObject({ code: 70107, message: 'user not found' });
  });

  it('a dropped reply becomes FORWARD_TIMEOUT after the timeout; a late reply changes nothing', async () => {
    let drop = true;
    const { asker, clock } = await pair(
      async (_s, body) => body,
      (bus) => ({ subscribe: bus.subscribe, publish: (n, m) => (drop ? Promise.resolve(1) : bus.publish(n, m)) }),
    );
    let early = false;
    const lost = asker.request('b', 2, 'x');
    const next = asker.request('b', 2, 'y');
    lost.catch(() => (early = true));
    await tick();
    clock.increment(499);
    await tick();
    expect(early).toBe(false);
    clock.increment(1);
    await expect(lost).rejects.toMatchObject({ code: ClusterErrorCode.FORWARD_TIMEOUT });
    await expect(next).rejects.toMatchObject({ code: ClusterErrorCode.FORWARD_TIMEOUT });
    drop = false;
    expect(await asker.request('b', 2, 'z')).toBe('z');
  });

  it('a node that does not listen fails the call at once with NOT_OWNER; garbage on the channel is dropped', async () => {
    const { asker } = await pair(async () => 1);
    await expect(asker.request('gone', 4, {})).rejects.toMatchObject({ code: ClusterErrorCode.NOT_OWNER });
    asker.handle('not json');
    asker.handle('{"t":"res"}');
    expect(asker.dropped).toBe(2);
  });
});
