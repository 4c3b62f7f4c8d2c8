// PushSender (src/cluster/pushes.ts): the pushes made in one turn of the event loop to one node leave as one message, in
// the order they were made, each numbered as if it had been sent alone; parseMessage reads the batch back.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/cluster/messages';
import { PushSender } from '../../src/cluster/pushes';
import type { Bus } from '../../src/cluster/types';

const turn = () => new Promise<void>((r) => setImmediate(r));

function fakeBus(listening = 1): Bus & { sent: Array<{ node: string; message: string }> } {
  const sent: Array<{ node: string; message: string }> = [];
  return {
    sent,
    subscribe: async () => async () => {},
    publish: async (node, message) => {
      sent.push({ node, message });
      return listening;
    },
  };
}

describe('cluster push batching', () => {
  it('NTF-6 one message per destination node per turn of the event loop, pushes in order, numbered per (node, shard, chain)', async () => {
    const bus = fakeBus();
    const s = new PushSender(bus);
    const got = [s.send('b', 1, 'E', 1, 'x1'), s.send('c', 1, 'E', 1, 'y1'), s.send('b', 1, 'E', 2, 'x2'), s.send('b', 2, 'F', 1, 'z1')];
    expect(bus.sent).toHaveLength(0); // nothing leaves before the turn's work is done
    expect(s.queued).toBe(4);
    expect(await Promise.all(got)).toEqual([1, 1, 1, 1]);
    expect(s.queued).toBe(0);
    expect(bus.sent.map((m) => m.node)).toEqual(['b', 'c']);
    const toB = parseMessage(bus.sent[0]!.message);
    expect(toB).toEqual({
      t: 'pushes',
      list: [
        { t: 'push', shard: 1, epoch: 'E', prev: 0, offset: 1, body: 'x1' },
        { t: 'push', shard: 1, epoch: 'E', prev: 1, offset: 2, body: 'x2' },
        { t: 'push', shard: 2, epoch: 'F', prev: 0, offset: 1, body: 'z1' },
      ],
    });
    // A lone push goes as before; the numbering goes on across turns.
    expect(parseMessage(bus.sent[1]!.message)).toEqual({ t: 'push', shard: 1, epoch: 'E', prev: 0, offset: 1, body: 'y1' });
    await s.send('b', 1, 'E', 5, 'x5');
    expect(parseMessage(bus.sent[2]!.message)).toMatchObject({ t: 'push', prev: 2, offset: 5 });
  });

  it('NTF-6 a node not listening, or a failed publish, is told to every push of the batch', async () => {
    const quiet = new PushSender(fakeBus(0));
    expect(await Promise.all([quiet.send('b', 1, 'E', 1, 1), quiet.send('b', 1, 'E', 2, 2)])).toEqual([0, 0]);
    const failing = new PushSender({ subscribe: async () => async () => {}, publish: () => Promise.reject(new Error('redis down')) });
    const rs = await Promise.allSettled([failing.send('b', 1, 'E', 1, 1), failing.send('b', 1, 'E', 2, 2)]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await turn();
  });

  it('NTF-6 the pushes of several group commits landing in one turn (each in its own microtasks) leave together', async () => {
    const bus = fakeBus();
    const s = new PushSender(bus);
    s.post('b', 1, 'E', 'x1');
    await Promise.resolve();
    await Promise.resolve();
    s.post('b', 2, 'F', 'y1');
    queueMicrotask(() => s.post('b', 1, 'E', 'x2'));
    expect(bus.sent).toHaveLength(0);
    await turn();
    expect(bus.sent).toHaveLength(1);
    expect((parseMessage(bus.sent[0]!.message) as { list: Array<{ body: unknown }> }).list.map((p) => p.body)).toEqual(['x1', 'y1', 'x2']);
    s.post('b', 1, 'E', 'x3');
    s.drop(); // kill -9: what was not sent yet is gone
    await turn();
    expect(bus.sent).toHaveLength(1);
    expect(s.queued).toBe(0);
  });

  it('NTF-6 post(): numbered per (chain, node) without a promise per push; a lost message is told with its push count', async () => {
    const bus = fakeBus();
    const s = new PushSender(bus);
    s.post('b', 1, 'E', 'x1');
    s.post('c', 1, 'E', 'y1');
    s.post('b', 1, 'E', 'x2');
    s.post('b', 2, 'F', 'z1');
    expect(s.queued).toBe(4);
    await turn();
    expect(parseMessage(bus.sent[0]!.message)).toMatchObject({
      t: 'pushes',
      list: [
        { shard: 1, epoch: 'E', prev: 0, offset: 1, body: 'x1' },
        { shard: 1, epoch: 'E', prev: 1, offset: 2, body: 'x2' },
        { shard: 2, epoch: 'F', prev: 0, offset: 1, body: 'z1' },
      ],
    });
    expect(parseMessage(bus.sent[1]!.message)).toMatchObject({ t: 'push', shard: 1, epoch: 'E', prev: 0, offset: 1, body: 'y1' });
    s.post('b', 1, 'E', 'x3');
    await turn();
    expect(parseMessage(bus.sent[2]!.message)).toMatchObject({ t: 'push', prev: 2, offset: 3 });

    const lost: number[] = [];
    const quiet = new PushSender(fakeBus(0), (n) => lost.push(n));
    quiet.post('b', 1, 'E', 1);
    quiet.post('b', 1, 'E', 2);
    const failing = new PushSender({ subscribe: async () => async () => {}, publish: () => Promise.reject(new Error('redis down')) }, (n) => lost.push(n));
    failing.post('b', 1, 'E', 1);
    await turn();
    expect(lost).toEqual([2, 1]);
  });

  it('NTF-6 a batch with one bad item is dropped whole (the receiver finds the gap at the next push)', () => {
    const ok = { t: 'push', shard: 1, epoch: 'E', prev: 0, offset: 1, body: null };
    expect(parseMessage(JSON.stringify({ t: 'pushes', list: [ok, { ...ok, offset: 'x' }] }))).toBeUndefined();
    expect(parseMessage(JSON.stringify({ t: 'pushes', list: 'no' }))).toBeUndefined();
    expect(parseMessage(JSON.stringify({ t: 'pushes', list: [ok] }))).toEqual({ t: 'pushes', list: [ok] });
  });
});
