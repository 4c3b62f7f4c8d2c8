// REST's Add_Type_Both (friend_add / friend_delete with both directions) is ONE engine command: both
// directions land together, journaled once, replayed as one, and a refused command changes neither.
import { describe, expect, it } from 'vitest';
import { coreOf } from '../../src/engine/engine';
import { replay } from '../../src/index';
import { world } from './harness';

describe('friends in both directions, as one command', () => {
  it('NTF-2 EXT-3 both directions land in one journaled command, and replay rebuilds them', async () => {
    const w = await world();
    const core = coreOf(w.engine);
    const before = (await w.engine.journal()).length;
    core.changeFriends('alice', ['bob', 'carol'], true, true);
    const journal = await w.engine.journal();
    const added = journal.slice(before).filter((e) => e.kind === 'command');
    expect(added).toEqual([expect.objectContaining({ command: { type: 'friends.add', userID: 'alice', friendIDs: ['bob', 'carol'], reverse: ['bob', 'carol'] } })]);
    const state = await w.engine.exportState();
    expect(state.users.alice!.friends).toEqual(['bob', 'carol']);
    expect([state.users.bob!.friends, state.users.carol!.friends]).toEqual([['alice'], ['alice']]);
    const rebuilt = await replay(journal, { clock: w.clock });
    expect((await rebuilt.exportState()).users).toEqual(state.users);
    // Removing both ways: one command again; an edge already gone in one direction is left out of it.
    await w.engine.removeFriends('carol', ['alice']);
    core.changeFriends('alice', ['bob', 'carol'], false, true);
    const last = (await w.engine.journal()).at(-1)!;
    expect(last).toMatchObject({ kind: 'command', command: { type: 'friends.remove', userID: 'alice', friendIDs: ['bob', 'carol'], reverse: ['bob'] } });
    const after = await w.engine.exportState();
    expect([after.users.alice!.friends, after.users.bob!.friends, after.users.carol!.friends]).toEqual([[], [], []]);
  });

  it('a refused command changes neither direction', async () => {
    const w = await world();
    const core = coreOf(w.engine);
    const store = core.store as unknown as { addFriends: (u: string, f: readonly string[]) => void };
    const real = store.addFriends.bind(store);
    let calls = 0;
    store.addFriends = (u, f) => {
      real(u, f);
      if (++calls === 2) throw new Error('disk full');
    };
    expect(() => core.changeFriends('alice', ['bob'], true, true)).toThrow('disk full');
    const state = await w.engine.exportState();
    expect([state.users.alice!.friends, state.users.bob!.friends]).toEqual([[], []]);
  });
});
