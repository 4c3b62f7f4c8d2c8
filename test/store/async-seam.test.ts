// Issue 10 item 5: the seam for an asynchronous durable store. The store applies a command synchronously and
// makes it durable later; no call is acknowledged (its promise resolved) before `durable()` says so, and a
// failed durability rejects the call.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, MemoryStore } from '../../src/index';

/** A MemoryStore whose writes become durable only when the test says so (as a Redis store's would). */
class LaterStore extends MemoryStore {
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  durable(): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  settle(error?: Error): void {
    for (const w of this.waiting.splice(0)) error ? w.reject(error) : w.resolve();
  }
}

const flushMicrotasks = () => new Promise((r) => setImmediate(r));

describe('an asynchronous durable store behind the engine', () => {
  it('a call resolves only once its command is durable; a durability failure rejects it', async () => {
    const store = new LaterStore();
    const engine = createEngine({ store, clock: new SimulatedClock(), switches: { userStatus: true } });
    const registered = engine.registerUsers(['alice']);
    let done = false;
    void registered.then(() => (done = true));
    await flushMicrotasks();
    expect(done).toBe(false);
    expect(store.hasUser('alice')).toBe(true); // applied, not yet acknowledged
    store.settle();
    await registered;

    const alice = createClient({ engine });
    const login = alice.login({ userID: 'alice' });
    await flushMicrotasks();
    store.settle();
    await login;
    const set = alice.setSelfStatus({ customStatus: 'x' });
    await flushMicrotasks();
    store.settle(new Error('replica lost'));
    await expect(set).rejects.toThrow('replica lost');
  });
});
