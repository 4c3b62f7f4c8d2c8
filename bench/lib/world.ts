// The benchmark world: who is registered, who takes part (logged in, subscribed, befriended) and the
// operation sequence, all generated up front from one seed so that the baseline and every engine variant
// run exactly the same workload. Generation is not timed.
import { below, rng } from './rng';

export const OP_SET = 0;
export const OP_LOGIN = 1;
export const OP_LOGOUT = 2;

export interface WorldSpec {
  /** Registered users. */
  users: number;
  /** The first `active` users take part: logged in at the start, with subscriptions and friends among themselves. */
  active: number;
  /** Subscriptions per active user (distinct, random, among the active users). */
  subs: number;
  /** Friends per active user (even: neighbours on a ring in a random order, so friendship is mutual). */
  friends: number;
  /** Web devices per active user. */
  devices: number;
  /** Operations in the sequence (warm-up included). */
  ops: number;
  seed: number;
  /** Probabilities of setSelfStatus and logout; the rest is login (of a logged-out device). */
  pSet: number;
  pLogout: number;
}

export interface World {
  spec: WorldSpec;
  ids: string[];
  /** subsOf[u * subs + k]: the k-th user u subscribes to. */
  subsOf: Int32Array;
  /** friendsOf[u * friends + k]. */
  friendsOf: Int32Array;
  kind: Uint8Array;
  /** The device of each operation: user * devices + k. */
  dev: Int32Array;
  /** The custom status of each setSelfStatus (unique, so every one is a change). */
  status: (string | undefined)[];
  /** Whether each operation changes the user's status (a second device's login or logout does not, ST-8). */
  changes: Uint8Array;
}

export const userOf = (w: World, device: number): number => Math.floor(device / w.spec.devices);

export function makeWorld(spec: WorldSpec): World {
  const { users, active, subs, friends, devices, ops } = spec;
  if (active > users) throw new Error(`active (${active}) > users (${users})`);
  if (friends % 2 !== 0 || friends >= active) throw new Error(`friends must be even and < active, got ${friends}`);
  if (subs >= active) throw new Error(`subs must be < active, got ${subs}`);
  const r = rng(spec.seed);
  const ids = new Array<string>(users);
  for (let i = 0; i < users; i++) ids[i] = 'u' + i;

  const subsOf = new Int32Array(active * subs);
  const seen = new Set<number>();
  for (let u = 0; u < active; u++) {
    seen.clear();
    for (let k = 0; k < subs; ) {
      const t = below(r, active);
      if (t === u || seen.has(t)) continue;
      seen.add(t);
      subsOf[u * subs + k++] = t;
    }
  }

  const perm = Int32Array.from({ length: active }, (_, i) => i);
  for (let i = active - 1; i > 0; i--) {
    const j = below(r, i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const friendsOf = new Int32Array(active * friends);
  const half = friends / 2;
  for (let i = 0; i < active; i++) {
    const u = perm[i]!;
    let k = 0;
    for (let d = 1; d <= half; d++) {
      friendsOf[u * friends + k++] = perm[(i + d) % active]!;
      friendsOf[u * friends + k++] = perm[(i - d + active) % active]!;
    }
  }

  // The operation sequence, with a model of who is logged in: all devices start logged in.
  const nDev = active * devices;
  const onPool = Int32Array.from({ length: nDev }, (_, i) => i);
  const offPool = new Int32Array(nDev);
  const pos = Int32Array.from({ length: nDev }, (_, i) => i); // position in its pool
  let nOn = nDev;
  let nOff = 0;
  const upCount = new Int32Array(active).fill(devices);
  const kind = new Uint8Array(ops);
  const dev = new Int32Array(ops);
  const status = new Array<string | undefined>(ops);
  const changes = new Uint8Array(ops);
  const take = (pool: Int32Array, n: number, i: number): number => {
    const d = pool[i]!;
    const last = pool[n - 1]!;
    pool[i] = last;
    pos[last] = i;
    return d;
  };
  for (let i = 0; i < ops; i++) {
    const x = r();
    let k = x < spec.pSet ? OP_SET : x < spec.pSet + spec.pLogout ? OP_LOGOUT : OP_LOGIN;
    if (k === OP_LOGIN && nOff === 0) k = OP_SET;
    if (k === OP_LOGOUT && nOn <= 1) k = OP_LOGIN;
    kind[i] = k;
    if (k === OP_SET) {
      const d = onPool[below(r, nOn)]!;
      dev[i] = d;
      status[i] = 's' + i.toString(36);
      changes[i] = 1;
    } else if (k === OP_LOGOUT) {
      const d = take(onPool, nOn, below(r, nOn));
      nOn--;
      pos[d] = nOff;
      offPool[nOff++] = d;
      dev[i] = d;
      const u = Math.floor(d / devices);
      changes[i] = --upCount[u]! === 0 ? 1 : 0;
    } else {
      const d = take(offPool, nOff, below(r, nOff));
      nOff--;
      pos[d] = nOn;
      onPool[nOn++] = d;
      dev[i] = d;
      const u = Math.floor(d / devices);
      changes[i] = upCount[u]!++ === 0 ? 1 : 0;
    }
  }
  return { spec, ids, subsOf, friendsOf, kind, dev, status, changes };
}

/** Status changes in ops [from, to). */
export function changesIn(w: World, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += w.changes[i]!;
  return n;
}
