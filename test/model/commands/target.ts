// Which device a command acts on. Most commands aim at "the k-th logged-in device" so that random runs spend
// their steps on devices that can do something; some aim at a fixed device, which may be logged out (2024).
import { CLIENTS, SELF } from '../config';
import type { Model } from '../model';

export class Target {
  /** The device the last run resolved to, for the counterexample's printout. */
  resolved: number | null = null;

  constructor(readonly pick: number, readonly loggedIn: boolean) {}

  resolve(m: Readonly<Model>): number {
    const n = m.devices.length;
    const live = this.loggedIn ? m.devices.flatMap((d, i) => (d.loggedIn ? [i] : [])) : [];
    this.resolved = live.length > 0 ? live[this.pick % live.length]! : this.pick % n;
    return this.resolved;
  }

  /** A generated list with SELF replaced by the device's user (its own user if it is not logged in). */
  ids(m: Readonly<Model>, list: readonly string[]): string[] {
    const device = this.resolved ?? this.resolve(m);
    const self = m.devices[device]!.user ?? CLIENTS[device]!.home;
    return list.map((id) => (id === SELF ? self : id));
  }

  toString(): string {
    const at = this.resolved === null ? '?' : `d${this.resolved}`;
    return this.loggedIn ? `${at}~${this.pick}` : at;
  }
}
