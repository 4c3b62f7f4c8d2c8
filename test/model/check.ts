// The comparisons of the model-based tests: a call's outcome, what each device heard during a command
// (NTF-6: per recipient and per user, the exact changes in order, none missing, none repeated), and the
// omniscient view (every user's status, devices, subscriptions and friends), after every command.
import { isDeepStrictEqual } from 'node:util';
import { EVENT, type ClientEvent } from '../../src/index';
import { USERS } from './config';
import type { Heard, Model, Outcome } from './model';
import type { Real } from './real';

/** A disagreement between the engine and the model: what the broken-variant tests expect to see. */
export class ModelMismatch extends Error {
  override name = 'ModelMismatch';
}

const show = (v: unknown) => JSON.stringify(v);

function mismatch(what: string, expected: unknown, actual: unknown): never {
  throw new ModelMismatch(`${what}\n  expected ${show(expected)}\n  actual   ${show(actual)}`);
}

/** Failure entries carry a free-text message: it must be there, but only userID and code are compared. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
  if ('code' in out && 'userID' in out && 'message' in out) {
    if (typeof out.message !== 'string' || out.message === '') mismatch('a failure entry without a message', 'a message', value);
    delete out.message;
  }
  return out;
}

export function checkOutcome(what: string, expected: Outcome, actual: { ok: unknown } | { code: number; retryAfterMs?: number }): void {
  if ('code' in expected) {
    if (!('code' in actual)) mismatch(`${what}: should fail with ${expected.code}`, expected, actual);
    if (actual.code !== expected.code) mismatch(`${what}: error code`, expected.code, actual.code);
    if (expected.retryAfterMs !== undefined && actual.retryAfterMs !== expected.retryAfterMs) {
      mismatch(`${what}: EXT-6 retryAfterMs`, expected.retryAfterMs, actual.retryAfterMs);
    }
    return;
  }
  if ('code' in actual) mismatch(`${what}: should succeed`, expected.ok, actual);
  const got = normalize(actual.ok);
  if (!isDeepStrictEqual(got, normalize(expected.ok))) mismatch(`${what}: result`, expected.ok, got);
}

type StatusEntry = { userID: string };

function split(events: ReadonlyArray<Heard | ClientEvent>) {
  const perUser = new Map<string, unknown[]>();
  const other: unknown[] = [];
  for (const e of events) {
    if ('kind' in e) {
      if (e.kind === 'status') for (const s of e.batch) perUser.set(s.userID, [...(perUser.get(s.userID) ?? []), s]);
      else if (e.kind === 'kicked') other.push({ name: EVENT.KICKED_OUT, code: 3002 });
      else other.push({ name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: e.userIDList, reason: e.reason } });
    } else if (e.name === EVENT.USER_STATUS_UPDATED) {
      const users = (e.data as StatusEntry[]).map((s) => s.userID);
      if (users.length === 0 || new Set(users).size !== users.length) mismatch('NTF-1 a notification lists each user once', 'distinct, non-empty', e.data);
      for (const s of e.data as StatusEntry[]) perUser.set(s.userID, [...(perUser.get(s.userID) ?? []), s]);
    } else if (e.name === EVENT.KICKED_OUT) {
      other.push({ name: e.name, code: e.data.code });
    } else {
      other.push({ name: e.name, data: e.data });
    }
  }
  return { perUser, other };
}

/** What each device heard during the command against what the model says it should have heard. */
export function checkHeard(model: Model, real: Real): void {
  const expected = model.takeOutbox();
  real.heard.forEach((actual, i) => {
    const want = split(expected[i]!);
    const got = split(actual);
    const users = new Set([...want.perUser.keys(), ...got.perUser.keys()]);
    for (const id of users) {
      const a = plain(got.perUser.get(id) ?? []);
      const b = want.perUser.get(id) ?? [];
      if (!isDeepStrictEqual(a, b)) mismatch(`NTF-6 device ${i} (${model.devices[i]!.platform}) heard about ${id}`, b, a);
    }
    if (!isDeepStrictEqual(plain(got.other), want.other)) mismatch(`device ${i} other events`, want.other, got.other);
    actual.length = 0;
  });
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

/** The omniscient view: every user's status (EXT-9 query), devices, subscriptions and friends (exportState). */
export async function checkWorld(model: Model, real: Real): Promise<void> {
  const statuses = await real.engine.queryStatus([...USERS]);
  for (const s of statuses) {
    const want = model.status(s.userID);
    const got = { userID: s.userID, statusType: s.statusType, customStatus: s.customStatus, version: s.version, reason: s.reason };
    if (!isDeepStrictEqual(got, want) || s.error) mismatch(`status of ${s.userID}`, want, s);
  }
  const state = await real.engine.exportState();
  const index = new Map(real.clients.map((c, i) => [c.deviceId, i]));
  for (const id of USERS) {
    const u = model.user(id);
    const got = state.users[id];
    if (!got) mismatch(`exportState has ${id}`, id, Object.keys(state.users));
    const devices = got.devices.map((d) => ({ device: index.get(d.deviceId), connected: d.connected }));
    const wantDevices = u.devices.map((i) => ({ device: i, connected: model.connected(model.devices[i]!) }));
    if (!isDeepStrictEqual(devices, wantDevices)) mismatch(`devices of ${id} (ST-4, DEV-1..4)`, wantDevices, devices);
    if (!isDeepStrictEqual(got.subscriptions, u.subs)) mismatch(`subscriptions of ${id} (SUB-8, UNSUB-5)`, u.subs, got.subscriptions);
    const friends = [...got.friends].sort();
    const wantFriends = [...u.friends].sort();
    if (!isDeepStrictEqual(friends, wantFriends)) mismatch(`friends of ${id}`, wantFriends, friends);
  }
  const settings = { edition: state.settings.edition, switches: state.settings.switches };
  const wantSettings = { edition: model.edition, switches: model.switches };
  if (!isDeepStrictEqual(settings, wantSettings)) mismatch('settings (GATE-1)', wantSettings, settings);
  // CL-2/CL-3: each logged-in client's answer about itself, from its own cache.
  for (const [i, d] of model.devices.entries()) {
    if (!d.loggedIn || !d.user) continue;
    const r = await real.clients[i]!.getUserStatus({ userIDList: [d.user] });
    const want = { successUserList: [d.cache], failureUserList: [] };
    if (!isDeepStrictEqual(plain(r.data), want)) mismatch(`CL-3 device ${i}'s self query`, want, r.data);
  }
  checkViews(model, real);
  const heardDuringCheck = real.heard.findIndex((h) => h.length > 0);
  if (heardDuringCheck >= 0) mismatch('nothing is heard during read-only calls', [], real.heard[heardDuringCheck]);
}

/**
 * EXT-5 and issue 17, for every viewer and user: what the viewer sees now is what the model says its class
 * was last shown, and its version never went below the last one the viewer was shown (a notification,
 * pushCurrent, a resume or a query). Read with no side effect (no rate window, no journal).
 */
function checkViews(model: Model, real: Real): void {
  for (const viewer of USERS) {
    for (const id of USERS) {
      if (id === viewer) continue;
      const got = real.statusOf(id, viewer);
      const want = model.viewFor(id, viewer);
      if (!isDeepStrictEqual(plain(got), want)) mismatch(`EXT-5 ${viewer}'s view of ${id}`, want, got);
      const last = model.lastShown.get(viewer)?.get(id);
      if (last !== undefined && got.version < last) mismatch(`EXT-2 ${viewer} was shown ${id} at version ${last}, now sees an older one`, last, got.version);
    }
  }
}

export async function checkAll(model: Model, real: Real): Promise<void> {
  checkHeard(model, real);
  await checkWorld(model, real);
}
