// Compaction (issue 9): the engine's side of a replay start. A snapshot is the store's state plus what the
// engine holds besides it that a replay rebuilds (rate windows, links no session holds); a store that bounds
// its journal takes one itself before it drops entries, reading the engine's memory here.
import type { Clock } from '../clock';
import { ErrorCode, StatusError } from '../errors';
import { memoryFromStored, memoryToStored, takeSnapshot, type EngineMemory, type Snapshot } from '../store/snapshot';
import type { Store } from '../store/types';
import type { JournalInfo } from '../types';
import type { Links } from './links';
import type { RateWindows } from './rate';
import type { Transaction } from './transaction';

export class Compaction {
  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly clock: Clock,
    private readonly rates: RateWindows,
    private readonly links: Links,
  ) {
    store.setEngineMemory?.(this.reader);
  }

  /** Where the store reads this engine's memory (dropped when the engine closes). */
  private readonly reader = (): EngineMemory => this.captured();

  /**
   * The same, as a store's replay start takes it before dropping entries (every window's worth of them): the
   * windows and links as they stand now, turned into stored records only when the capture is read (most are
   * replaced by the next one unread). The fields are getters; structuredClone and JSON read them as values.
   */
  private captured(): EngineMemory {
    // Dropped once read: until then the capture holds this engine's windows (and through them the engine).
    let rates: (() => ReturnType<ReturnType<RateWindows['capture']>>) | null = this.rates.capture();
    let links: ReturnType<Links['exportStray']> | null = this.links.exportStray();
    let stored: EngineMemory | undefined;
    const read = (): EngineMemory => {
      if (stored === undefined) {
        stored = {
          rates: rates!().map(([k, r]) => [k, memoryToStored('rateWindow', r)]),
          links: links!.map(([d, r]) => [d, memoryToStored('deviceLink', r)]),
        };
        rates = links = null;
        slot.read = null; // read: the engine no longer needs to hold it (the store does, as long as it wants)
      }
      return stored;
    };
    const slot: { read: (() => EngineMemory) | null } = { read };
    this.unread = slot;
    return {
      get rates() {
        return read().rates;
      },
      get links() {
        return read().links;
      },
    };
  }

  /** The last capture, while the store may not have read it. */
  private unread: { read: (() => EngineMemory) | null } | null = null;

  /**
   * The engine closes: the store stops reading its memory, and a capture it has not read is read now, so that
   * a store that outlives the engine (a cluster shard's replay engine, then the real one on the same store) does
   * not keep this engine alive through its unread replay start (review 15, R4). What it reads is what the
   * capture would have read later: nothing writes the windows of a closed engine.
   */
  settle(): void {
    this.store.dropEngineMemory?.(this.reader);
    const read = this.unread?.read;
    this.unread = null;
    try {
      read?.();
    } catch {
      // Not readable now (a later capture replaced it): the store, if it ever reads it, says so itself.
    }
  }

  /** What the engine holds besides its store that a replay rebuilds, as stored records. */
  memory(): EngineMemory {
    return {
      rates: this.rates.export().map(([k, r]) => [k, memoryToStored('rateWindow', r)]),
      links: this.links.exportStray().map(([d, r]) => [d, memoryToStored('deviceLink', r)]),
    };
  }

  /** Puts a snapshot's engine memory back (a replay from it, once the store was restored). */
  load(m: EngineMemory): void {
    this.rates.load(m.rates.map(([k, r]) => [k, memoryFromStored('rateWindow', r)]));
    this.links.loadStray(m.links.map(([d, r]) => [d, memoryFromStored('deviceLink', r)]));
  }

  /** The whole replayable state now (between commands: inside one it would be half a command). */
  snapshot(): Snapshot {
    if (this.tx.open) throw new StatusError(ErrorCode.INVALID_PARAMETER, 'a snapshot is taken between commands, not inside one', { param: 'snapshot' });
    return takeSnapshot(this.store, this.tx.seq, this.clock.now(), this.memory());
  }

  replayStart(): Snapshot | null {
    return this.store.replayStart?.() ?? null;
  }

  journalInfo(): JournalInfo {
    return { firstSeq: this.store.firstSeq(), lastSeq: this.store.lastSeq(), snapshotSeq: this.store.replayStartSeq?.() ?? null };
  }
}
