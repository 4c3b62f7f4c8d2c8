// The chaos runs' clients: real remote clients (`createClient({ url: [a, b, c] })`, one per device, web
// platform) that record what the checker needs: each acknowledged setSelfStatus with the status it
// returned, each failed one with its code, and every status each device heard (pushes, and the reads that
// set its first view), in order. A device's URL list starts at its home node and goes on to the others.
import { createClient } from '../../../src/client/index';
import type { Client } from '../../../src/client/types';
import { EVENT } from '../../../src/events';
import type { UserStatus } from '../../../src/types';
import { sig } from '../../server/proc';
import type { Ack, ChaosHistory, Heard, Observed } from './checker';

export interface FleetDevice {
  userID: string;
  client: Client;
  /** The index of the node it connects to first. */
  home: number;
  follows: string[];
  /** Gone for good (its client destroyed while its node was dead): expected offline at the end. */
  gone: boolean;
}

/** A set-up call, again while the cluster says to retry (a shard being rebuilt or changing owner, a socket closed under it). */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (attempt >= 50 || ![75001, 75006, 75007, 2800, 2801].includes(code ?? 0)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const observed = (s: UserStatus): Observed => ({ userID: s.userID, statusType: s.statusType, customStatus: s.customStatus, version: s.version, reason: s.reason });

export class Fleet {
  readonly devices: FleetDevice[] = [];
  readonly acks: Ack[] = [];
  readonly failures: Array<{ userID: string; customStatus: string; code: number; message: string }> = [];
  readonly heard: Heard[] = [];
  /** Devices the server would not let back in (KICKED_OUT: resumeRefused, multipleDevice, ...): a resume that failed. */
  readonly kicked: Array<{ userID: string; type: string; code: number; message: string }> = [];
  private n = 0;

  /** `urls(i)`: the URL list of device i. */
  constructor(private readonly urls: (home: number) => string[]) {}

  /** Logs one web device in per user, device i homed at node `home(i)`; `pinned`: its URL list is its home alone. */
  async login(userIDs: string[], home: (i: number) => number, o: { pinned?: boolean; requestTimeoutMs?: number } = {}): Promise<FleetDevice[]> {
    const made = userIDs.map((userID, i) => {
      const h = home(i);
      // A pinned device knows only its home node: when that dies it cannot come back elsewhere (a ghost candidate).
      const url = o.pinned ? [this.urls(h)[0]!] : this.urls(h);
      const client = createClient({ url, requestTimeoutMs: o.requestTimeoutMs ?? 10_000, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
      const d: FleetDevice = { userID, client, home: h, follows: [], gone: false };
      client.on(EVENT.USER_STATUS_UPDATED, (e) => {
        for (const s of e.data) this.heard.push({ deviceId: client.deviceId, status: observed(s) });
      });
      client.on(EVENT.KICKED_OUT, (e) => void this.kicked.push({ userID, ...e.data }));
      return d;
    });
    for (let i = 0; i < made.length; i += 50) {
      await Promise.all(made.slice(i, i + 50).map((d) => retrying(() => d.client.login({ userID: d.userID, userSig: sig(d.userID) }))));
    }
    this.devices.push(...made);
    return made;
  }

  /** Subscribes `d` to `targets` and records its first view of them (a read). */
  async follow(d: FleetDevice, targets: string[]): Promise<void> {
    await retrying(() => d.client.subscribeUserStatus({ userIDList: targets }));
    const r = await retrying(() => d.client.getUserStatus({ userIDList: targets }));
    for (const s of r.data.successUserList) this.heard.push({ deviceId: d.client.deviceId, kind: 'read', status: observed(s) });
    d.follows.push(...targets);
  }

  /** One setSelfStatus with a custom status of its own; records the ack or the failure. Resolves true on ack. */
  async set(d: FleetDevice): Promise<boolean> {
    const customStatus = `${d.userID}#${++this.n}`;
    try {
      const r = await d.client.setSelfStatus({ customStatus });
      this.acks.push(observed(r.data));
      return true;
    } catch (e) {
      const err = e as { code?: number; message?: string };
      this.failures.push({ userID: d.userID, customStatus, code: err.code ?? -1, message: err.message ?? String(e) });
      return false;
    }
  }

  /** Sets statuses from `devices` in a loop, `concurrency` calls in flight, until `stop()` says so. */
  async load(devices: FleetDevice[], concurrency: number, stop: () => boolean): Promise<void> {
    let k = 0;
    const worker = async () => {
      while (!stop()) {
        const d = devices[k++ % devices.length]!;
        if (d.gone) continue;
        if (!(await this.set(d))) await new Promise((r) => setTimeout(r, 20)); // a failed call: a short breath before the next
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** Until every live device is connected (its calls answered): a ping by a read of its own status from the server. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (const d of this.devices) {
      if (d.gone) continue;
      for (;;) {
        try {
          await d.client.getUserStatus({ userIDList: [d.userID === this.devices[0]!.userID ? this.devices[1]!.userID : this.devices[0]!.userID] });
          break;
        } catch (e) {
          const kicked = this.kicked.filter((k) => k.userID === d.userID);
          if (kicked.length > 0) throw new Error(`device of ${d.userID} was refused its resume: ${JSON.stringify(kicked)}`);
          if (Date.now() > end) throw new Error(`device of ${d.userID} not back in ${timeoutMs} ms: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }

  /** Logs a kicked device in again and follows the same users (what an app does after kickedOut); its first view is a read. */
  async relogin(d: FleetDevice): Promise<void> {
    await retrying(() => d.client.login({ userID: d.userID, userSig: sig(d.userID) }));
    const follows = d.follows.splice(0);
    if (follows.length > 0) await this.follow(d, follows);
  }

  /** Marks `d` gone for good and destroys its client (it says nothing: its node is dead). */
  async abandon(d: FleetDevice): Promise<void> {
    d.gone = true;
    d.client.disconnect('network_lost');
    await d.client.destroy();
  }

  history(truth: Observed[]): ChaosHistory {
    const gone = new Set(this.devices.filter((d) => d.gone).map((d) => d.userID));
    for (const d of this.devices) if (!d.gone) gone.delete(d.userID);
    return {
      acks: this.acks,
      heard: this.heard,
      truth,
      follows: this.devices.filter((d) => !d.gone && d.follows.length > 0).map((d) => ({ deviceId: d.client.deviceId, about: d.follows })),
      gone: [...gone],
    };
  }

  async destroy(): Promise<void> {
    await Promise.allSettled(this.devices.map((d) => d.client.destroy()));
  }
}
