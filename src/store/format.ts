// The persisted format of records and timers (item 4): versioned, and named as the machines name things,
// not by the runner's generated ids. A state is stored as XState's state value (`{ unlogined: 'clearPending' }`,
// as XState's persisted snapshots do), a timer by its delay's name and the state it belongs to; the runner's
// ids are rebuilt on load. Pure string and object work: the store does not import the engine.
import type { StateValue } from 'xstate';
import type { StatusRecord, SubscriptionsRecord } from '../records';

/** The version of every record and timer written today; readers refuse what they do not know. */
export const RECORD_FORMAT = 2;

/** XState's state value of a key path: 'unlogined.clearPending' -> { unlogined: 'clearPending' }. */
export function stateValueOf(path: string): StateValue {
  const parts = path.split('.');
  let v: StateValue = parts[parts.length - 1] as string;
  for (let i = parts.length - 2; i >= 0; i--) v = { [parts[i] as string]: v };
  return v;
}

/** The key path of a state value of one active leaf (the runner runs no parallel states). */
export function pathOfStateValue(value: StateValue): string {
  const parts: string[] = [];
  let v: StateValue = value;
  while (typeof v !== 'string') {
    const keys = Object.keys(v);
    if (keys.length !== 1) throw new Error(`not a single-leaf state value: ${JSON.stringify(value)}`);
    parts.push(keys[0] as string);
    v = (v as Record<string, StateValue>)[keys[0] as string] as StateValue;
  }
  parts.push(v);
  return parts.join('.');
}

interface Stored {
  format: number;
  value: StateValue;
}

/** A record as it is stored: the runner's leaf id ('userStatus.online') becomes the state value ('online'). */
export function toStored<R extends { value: string }>(machineId: string, rec: R): Omit<R, 'value'> & Stored {
  const prefix = machineId + '.';
  if (!rec.value.startsWith(prefix)) throw new Error(`record of '${machineId}' in state '${rec.value}'`);
  return { ...rec, format: RECORD_FORMAT, value: stateValueOf(rec.value.slice(prefix.length)) };
}

/** ... and back. Throws on a format it does not know. */
export function fromStored<R extends { value: string }>(machineId: string, stored: Record<string, unknown>): R {
  if (stored.format !== RECORD_FORMAT) throw new Error(`record format ${String(stored.format)} (this build reads ${RECORD_FORMAT})`);
  const { format: _format, value, ...rest } = stored;
  return { ...rest, value: `${machineId}.${pathOfStateValue(value as StateValue)}` } as unknown as R;
}

/** A status record, with the user's flap machine (EXT-7) while it holds, stored by state value too. */
export function statusToStored(rec: StatusRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...toStored('userStatus', rec) };
  if (rec.flap) out.flap = toStored('flap', rec.flap);
  return out;
}
export function statusFromStored(o: Record<string, unknown>): StatusRecord {
  const rec = fromStored<StatusRecord>('userStatus', o);
  if (o.flap !== undefined) rec.flap = fromStored<NonNullable<StatusRecord['flap']>>('flap', o.flap as Record<string, unknown>);
  return rec;
}
export const subsToStored = (rec: SubscriptionsRecord) => toStored('subscriptions', rec);
export const subsFromStored = (o: Record<string, unknown>) => fromStored<SubscriptionsRecord>('subscriptions', o);

// ---------------------------------------------------------------------------------------------------------
// From format 1 (schema 1: records and timers keyed by the runner's generated ids). Frozen as released:
// a migration must read what that release wrote, whatever the rules say today.

type V1Status = { value: string; context: Record<string, any>; seq: number; shownSeq?: number; visibilitySeq?: number };

/** A v1 status record: the state id becomes a value; EXT-2's seqs become the views others were shown. */
export function statusFromV1(v1: V1Status): Record<string, unknown> {
  const c = v1.context;
  const cur = { statusType: c.statusType, customStatus: c.customStatus, version: c.version, reason: c.reason };
  const vis = c.visibility ?? 'everyone';
  const view = (cls: 'friends' | 'others') => {
    const sees = vis === 'everyone' || (vis === 'friends' && cls === 'friends');
    return sees
      ? { ...cur, seq: v1.shownSeq ?? v1.seq }
      : { statusType: 3, customStatus: '', version: c.visibilityVersion ?? 0, reason: 'visibility_changed', seq: v1.visibilitySeq ?? 0 };
  };
  const out: Record<string, unknown> = { format: RECORD_FORMAT, value: v1Value('userStatus', v1.value), context: c, seq: v1.seq };
  const views = { friends: view('friends'), others: view('others') };
  const plain = (v: ReturnType<typeof view>) =>
    v.seq === v1.seq && v.version === cur.version && v.statusType === cur.statusType && v.customStatus === cur.customStatus && v.reason === cur.reason;
  if (!plain(views.friends) || !plain(views.others)) out.views = views;
  return out;
}

export function subsFromV1(v1: { value: string; context: unknown }): Record<string, unknown> {
  return { format: RECORD_FORMAT, value: v1Value('subscriptions', v1.value), context: v1.context };
}

function v1Value(machineId: string, id: string): StateValue {
  if (!id.startsWith(machineId + '.')) throw new Error(`v1 record of '${machineId}' in state '${id}'`);
  return stateValueOf(id.slice(machineId.length + 1));
}

/** A v1 timer's event type 'xstate.after.<delay>.<machine>.<path>' as its delay and state path. */
export function timerNamesFromV1(machineId: string, eventType: string): { delay: string; state: string } {
  const m = /^xstate\.after\.([^.]+)\.(.+)$/.exec(eventType);
  if (!m || !(m[2] as string).startsWith(machineId + '.')) throw new Error(`v1 timer event '${eventType}' of '${machineId}'`);
  return { delay: m[1] as string, state: (m[2] as string).slice(machineId.length + 1) };
}

/** A v1 timer key (JSON [machine, owner, (device), event type]) in today's form (JSON [machine, owner, (device), delay]). */
export function timerKeyFromV1(key: string): string {
  const parts = JSON.parse(key) as string[];
  const machine = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  return JSON.stringify([...parts.slice(0, -1), timerNamesFromV1(machine, last).delay]);
}
