// The app's edition, switches and limits (GATE-1), run by the `access` machine as one real XState actor;
// the gates it decides are cached after each change, since every call and delivery reads them.
import { createActor, type Actor } from 'xstate';
import { accessMachine, type AccessContext } from '../../machines/access';
import type { Limits } from '../../machines/spec';
import type { ConfigChange } from '../records';
import type { Store } from '../store/types';
import type { EngineOptions } from '../types';
import type { Gate } from './rules/checks';
import type { Transaction } from './transaction';

export class Settings {
  private actor: Actor<typeof accessMachine>;
  private cache: AccessContext;
  /** GATE: decided by the access machine's state. */
  gate: Gate = 'switchOff';
  friendNotifyOn = false;
  /** The two gates the fan-out reads (NTF-3/NTF-4), one object per settings change. */
  gates: { userStatus: boolean; friendNotify: boolean } = { userStatus: false, friendNotify: false };
  private readonly listeners = new Set<(settings: AccessContext) => void>();

  constructor(
    private readonly machine: typeof accessMachine,
    initial: AccessContext,
    private readonly inspect: EngineOptions['inspect'],
  ) {
    this.actor = createActor(machine, { input: initial, inspect: inspect as never });
    this.actor.start();
    this.cache = this.actor.getSnapshot().context;
    this.refresh();
  }

  get sessionId(): string {
    return this.actor.sessionId;
  }

  get current(): AccessContext {
    return this.cache;
  }

  get limits(): Readonly<Limits> {
    return this.cache.limits;
  }

  /** One change, inside the running command: undone with it, listeners told once it has landed. */
  change(change: ConfigChange, store: Store, tx: Transaction): void {
    const saved = this.actor.getPersistedSnapshot();
    this.actor.send({ type: 'CONFIG.CHANGE', ...change });
    this.cache = this.actor.getSnapshot().context;
    this.refresh();
    tx.onUndo(() => {
      this.actor.stop();
      this.actor = createActor(this.machine, { snapshot: saved, inspect: this.inspect as never } as never);
      this.actor.start();
      this.cache = this.actor.getSnapshot().context;
      this.refresh();
    });
    store.putSettings(this.cache);
    const settings = this.cache;
    tx.afterCommit(() => {
      for (const l of this.listeners) l(settings);
    });
  }

  /** Hear every settings change; returns an unsubscribe. */
  onChange(listener: (settings: AccessContext) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.actor.stop();
  }

  private refresh(): void {
    const value = this.actor.getSnapshot().value as { userStatus: string; friendNotify: string };
    this.gate = value.userStatus as Gate;
    this.friendNotifyOn = value.friendNotify === 'on';
    this.gates = { userStatus: this.gate === 'enabled', friendNotify: this.friendNotifyOn };
  }
}
