// The store contract against MemoryStore, the engine's default store.
import { MemoryStore } from '../../src/store/memory';
import { TITLES, storeContract } from './contract';

storeContract('MemoryStore', () => ({ store: new MemoryStore() }), {
  // MemoryStore.transaction is a plain call: a throw midway leaves the writes made before it. Reported to
  // the lead (move SqliteStore's undo log into MemoryStore); remove these when that lands.
  knownGaps: [TITLES.atomic, TITLES.nested],
});
