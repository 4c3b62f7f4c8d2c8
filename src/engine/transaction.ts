// The transaction of one command: its seq, the store transaction, the undo of the engine's own memory, and
// the outbox. Deliveries (and inspection reports, and listeners) wait until the command has landed and then
// leave in order (NTF-6); a command the store refuses leaves nothing behind and tells no one.
import type { Broker } from '../broker/types';
import type { ClientEvent } from '../events';
import type { Command } from '../records';
import type { Store } from '../store/types';

/**
 * The outbox: deliveries waiting for their command to land, in columns (a delivery is a few slot stores,
 * not an object), reused from command to command; `length` of them are queued.
 */
class Outbox {
  length = 0;
  readonly userID: string[] = [];
  readonly event: ClientEvent[] = [];
  readonly seq: number[] = [];
  /** One device of the user, or undefined: all of them. */
  readonly deviceId: Array<string | undefined> = [];
  /** One change's event for many users (NTF-2 b/c), in the order they were found; undefined: to `userID`. */
  readonly recipients: Array<string[] | undefined> = [];
  /**
   * One list per slot, kept from command to command: the fan-out writes a change's audience into the next
   * slot's (`spare()`), so that a change allocates no list. A list is only read while its slot is handed out
   * (a broker that keeps one past publishMany copies it, as the cluster's does).
   */
  private readonly lists: string[][] = [];

  /** The list the next pushed delivery may use for its recipients (overwritten by the next command using that slot). */
  spare(): string[] {
    return (this.lists[this.length] ??= []);
  }

  push(userID: string, event: ClientEvent, seq: number, deviceId: string | undefined, recipients: string[] | undefined): void {
    const i = this.length++;
    this.userID[i] = userID;
    this.event[i] = event;
    this.seq[i] = seq;
    this.deviceId[i] = deviceId;
    this.recipients[i] = recipients;
  }

  /** Forgets the deliveries from `n` on (the references too, so that nothing sent is kept alive). */
  cut(n: number): void {
    for (let i = n; i < this.length; i++) {
      this.event[i] = undefined as unknown as ClientEvent;
      this.recipients[i] = undefined;
    }
    this.length = n;
  }
}

export class Transaction {
  /** The engine's own sequence: the journal position of the last command or transition (EXT-3). */
  seq: number;
  /** The seq of the command being applied: what its deliveries and records carry. */
  cause = 0;
  /** The command being applied, and the time it is applied at (read once). */
  command: Command | undefined;
  now = 0;
  /**
   * How to revert the engine-memory changes of the open commands: the entries below undoTop, oldest first.
   * Each command knows where its own start (a mark), so a nested command joins its outer one's log by leaving
   * its entries there. One array, reused: a command allocates nothing for its undo log (slots are not cleared
   * when a command ends, as in the store's log; a burst is let go).
   */
  private undo: Array<() => void> = [];
  private undoTop = 0;
  /** How many commands are open (nested ones count). */
  private depth = 0;
  private after: Array<() => void> = [];
  /** The running command's inputs, read by `body` (one bound function, not a closure per command). */
  private nextBy = '';
  private nextCommand: Command | undefined;
  private nextApply: ((c: Command) => unknown) | undefined;
  private nextThen: (() => void) | undefined;
  private readonly outbox = new Outbox();
  private flushing = false;
  private flushIndex = 0;

  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly journalOn: boolean,
    private readonly clockNow: () => number,
  ) {
    this.seq = store.lastSeq();
  }

  /** Whether a command is running (so that undo and after-commit work is being collected). */
  get open(): boolean {
    return this.depth > 0;
  }

  /**
   * Runs one accepted command: journal it, `apply` it (then `then`, in the same transaction), land it
   * atomically, then run what waited for the commit and hand out the outbox. A nested call (a delivery's
   * handler calling back) joins the outer command's undo.
   */
  run(by: string, command: Command, apply: (c: Command) => unknown, then?: () => void): void {
    const seq0 = this.seq;
    const cause0 = this.cause;
    const outbox0 = this.outbox.length;
    const after0 = this.after.length;
    const mark = this.undoTop;
    this.nextBy = by;
    this.nextCommand = command;
    this.nextApply = apply;
    this.nextThen = then;
    this.depth++;
    try {
      this.store.transaction(this.body);
    } catch (e) {
      // The store rolled back; put the engine's memory back too (newest first), as if nothing was tried.
      this.depth--;
      const undo = this.undo;
      for (let i = this.undoTop - 1; i >= mark; i--) (undo[i] as () => void)();
      this.undoTop = mark;
      this.seq = seq0;
      this.cause = cause0;
      this.outbox.cut(outbox0);
      this.after.length = after0;
      throw e;
    }
    // A nested command's undo entries stay in the log: they are its outer command's now.
    if (--this.depth > 0) return;
    this.undoTop = 0;
    if (this.undo.length > 4096) this.undo = [];
    if (this.after.length > 0) {
      const after = this.after;
      this.after = [];
      for (const fn of after) fn();
    }
    this.flush();
  }

  /** The store transaction's body: the inputs `run` left, read first (a nested command overwrites them). */
  private readonly body = (): void => {
    const by = this.nextBy;
    const command = this.nextCommand as Command;
    const apply = this.nextApply as (c: Command) => unknown;
    const then = this.nextThen;
    this.nextCommand = this.nextApply = this.nextThen = undefined;
    const seq = ++this.seq;
    this.cause = seq;
    this.command = command;
    this.now = this.clockNow();
    if (this.journalOn) {
      const store = this.store;
      if (store.appendCommand !== undefined) store.appendCommand(seq, this.now, by, command);
      else store.append({ seq, at: this.now, kind: 'command', by, command });
    }
    apply(command);
    then?.();
  };

  /** EXT-3 replay: one journaled command at its own seq and time; nothing is delivered or told. */
  replayOne(seq: number, at: number, apply: () => void, entry: Parameters<Store['append']>[0]): void {
    this.store.transaction(() => {
      this.seq = seq;
      this.cause = seq;
      this.now = at;
      if (this.journalOn) this.store.append(entry);
      apply();
    });
    this.outbox.cut(0);
    this.after = [];
  }

  /** Registers how to revert a change of engine memory if the running command fails. */
  onUndo(fn: () => void): void {
    if (this.depth > 0) this.undo[this.undoTop++] = fn;
  }

  /** Runs `fn` once the running command has landed (at once outside a command); never for a rolled-back one. */
  afterCommit(fn: () => void): void {
    if (this.depth > 0) this.after.push(fn);
    else fn();
  }

  /** Queues a delivery to one user (or one device of it), sent once the command has landed. */
  send(userID: string, event: ClientEvent, deviceId?: string, seq = this.cause): void {
    this.outbox.push(userID, event, seq, deviceId, undefined);
  }

  /**
   * An empty list for the recipients of the next `sendMany` (the outbox's own, reused): fill it, then send
   * it before anything else is queued.
   */
  recipientList(): string[] {
    return this.outbox.spare();
  }

  /** Queues one change's event for many users. */
  sendMany(userID: string, recipients: string[], event: ClientEvent): void {
    if (recipients.length > 0) this.outbox.push(userID, event, this.cause, undefined, recipients);
  }

  /** Hands the outbox to the broker, in order; a delivery that triggers a call queues behind the rest. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const o = this.outbox;
      for (let i = 0; i < o.length; i++) {
        this.flushIndex = i;
        const recipients = o.recipients[i];
        if (recipients !== undefined) this.broker.publishMany(recipients, o.event[i] as ClientEvent, o.seq[i] as number);
        else this.broker.publish(o.userID[i] as string, o.event[i] as ClientEvent, o.seq[i] as number, o.deviceId[i]);
      }
    } finally {
      this.outbox.cut(0);
      this.flushIndex = 0;
      this.flushing = false;
    }
  }

  /**
   * EXT-2: the seq up to which every delivery has left. While the outbox is being handed out (a handler called
   * back into the engine), what still waits in it has not been heard yet, whatever `seq` says.
   */
  heardUpTo(): number {
    const next = this.flushing && this.flushIndex < this.outbox.length ? (this.outbox.seq[this.flushIndex] as number) : undefined;
    return next === undefined ? this.seq : Math.min(this.seq, next - 1);
  }
}
