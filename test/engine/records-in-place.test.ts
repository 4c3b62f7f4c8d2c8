// MemoryStore writes a change into the user's status record in place (Store.patchStatus, so that a change
// leaves no record for the garbage collector): a failed call must still change nothing, field by field and
// on the very object, and whoever keeps what the engine gave them (a snapshot, a state export) keeps it as
// it was. SPEC section 10: a failed call changes nothing.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine } from '../../src/index';
import { MemoryStore } from '../../src/store/memory';
import type { PendingTimer, StatusStepFields } from '../../src/store/types';

/** An in-memory store that refuses the next write of a kind; putStatus is its own, so records are written in place. */
class FailingMemory extends MemoryStore {
  failNext: 'step' | 'timer' | null = null;
  private trip(kind: 'step' | 'timer') {
    if (this.failNext === kind) {
      this.failNext = null;
      throw new Error(`refused (${kind})`);
    }
  }
  override appendStatusStep(step: StatusStepFields): void {
    this.trip('step');
    super.appendStatusStep(step);
  }
  override putTimer(timer: PendingTimer): void {
    this.trip('timer');
    super.putTimer(timer);
  }
}

async function setup() {
  const store = new FailingMemory();
  const clock = new SimulatedClock();
  const engine = createEngine({ store, clock, switches: { userStatus: true } });
  await engine.registerUsers(['alice', 'bob']);
  const alice = createClient({ engine });
  await alice.login({ userID: 'alice' });
  await alice.setSelfStatus({ customStatus: 'one' });
  await alice.setSelfStatus({ customStatus: 'two' });
  return { store, clock, engine, alice };
}

describe('status records written in place', () => {
  it('a change writes into the record the store holds (the case the rollback tests below are about)', async () => {
    const { store, alice } = await setup();
    const rec = store.getStatus('alice');
    await alice.setSelfStatus({ customStatus: 'three' });
    expect(store.getStatus('alice')).toBe(rec);
    expect(rec?.context.customStatus).toBe('three');
  });

  it('a setSelfStatus refused after its record was written leaves every field of that very object as it was', async () => {
    const { store, engine, alice } = await setup();
    const rec = store.getStatus('alice');
    const copy = structuredClone(rec);
    const before = structuredClone(await engine.exportState());
    store.failNext = 'step';
    await expect(alice.setSelfStatus({ customStatus: 'lost' })).rejects.toThrow(/refused/);
    expect(store.getStatus('alice')).toBe(rec);
    expect(rec).toStrictEqual(copy);
    expect(await engine.exportState()).toEqual(before);
    await alice.setSelfStatus({ customStatus: 'kept' });
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ customStatus: 'kept', version: (copy?.context.version ?? 0) + 1 });
  });

  it('a logout refused after its record was written puts the record back (state, devices, version, seq), and arms no timer', async () => {
    const { store, engine, alice } = await setup();
    const rec = store.getStatus('alice');
    const copy = structuredClone(rec);
    store.failNext = 'step';
    await expect(alice.logout()).rejects.toThrow(/refused/);
    expect(store.getStatus('alice')).toBe(rec);
    expect(rec).toStrictEqual(copy);
    expect([...store.timers()]).toEqual([]);
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ statusType: 1, customStatus: 'two' });
    await engine.close();
  });

  it('a snapshot and a state export taken before a change do not see it', async () => {
    const { engine, alice } = await setup();
    const snap = await engine.snapshot();
    const exported = await engine.exportState();
    const snapCopy = structuredClone(snap);
    const exportCopy = structuredClone(exported);
    await alice.setSelfStatus({ customStatus: 'later' });
    await alice.logout();
    expect(snap).toStrictEqual(snapCopy);
    expect(exported).toStrictEqual(exportCopy);
  });
});
