// The machines the engine runs, compiled once (src/engine/runner.ts) with their delays bound to the live
// limits, and the initial records of each. The `access` machine is app-wide and runs as a real actor
// (src/engine/settings.ts).
import { flapMachine, type FlapContext, type FlapEmitted, type FlapEvent } from '../../machines/flap';
import { deviceLinkMachine, type DeviceLinkContext, type DeviceLinkEmitted, type DeviceLinkEvent } from '../../machines/deviceLink';
import { rateWindowMachine, type RateWindowContext, type RateWindowEmitted, type RateWindowEvent } from '../../machines/rateWindow';
import type { Limits } from '../../machines/spec';
import { subscriptionsMachine, type SubscriptionsContext, type SubscriptionsEmitted, type SubscriptionsEvent } from '../../machines/subscriptions';
import { userStatusMachine, type UserStatusContext, type UserStatusEmitted, type UserStatusEvent } from '../../machines/userStatus';
import type { MachineOverrides } from '../types';
import type { RunnerSnapshot, StatusRecord, SubscriptionsRecord } from '../records';
import { CompiledMachine } from './runner';

export type UserRunner = CompiledMachine<UserStatusContext, UserStatusEvent, UserStatusEmitted>;
export type SubsRunner = CompiledMachine<SubscriptionsContext, SubscriptionsEvent, SubscriptionsEmitted>;
export type RateRunner = CompiledMachine<RateWindowContext, RateWindowEvent, RateWindowEmitted>;
export type LinkRunner = CompiledMachine<DeviceLinkContext, DeviceLinkEvent, DeviceLinkEmitted>;
export type FlapRunner = CompiledMachine<FlapContext, FlapEvent, FlapEmitted>;

/** Machines that only tests swap (the broken variants), not part of the public `machines` option. */
export interface InternalMachines {
  flap?: typeof flapMachine;
}

export class Runners {
  readonly user: UserRunner;
  readonly subs: SubsRunner;
  readonly rate: RateRunner;
  readonly link: LinkRunner;
  readonly flap: FlapRunner;
  readonly flapInitial: RunnerSnapshot<FlapContext>;
  readonly userInitial: StatusRecord;
  readonly subsInitial: SubscriptionsRecord;
  readonly rateInitial: RunnerSnapshot<RateWindowContext>;
  /** The link machine's delay names: a device's pending link waits are found by key, without a scan. */
  readonly linkDelays: readonly string[];

  constructor(m: MachineOverrides & InternalMachines, limits: () => Readonly<Limits>) {
    this.user = new CompiledMachine(
      (m.userStatus ?? userStatusMachine).provide({ delays: { customStatusClearAfterLogout: () => limits().customStatusClearAfterLogoutMs } }),
    );
    this.subs = new CompiledMachine(
      (m.subscriptions ?? subscriptionsMachine).provide({ delays: { subscriptionClearAfterLogout: () => limits().subscriptionClearAfterLogoutMs } }),
    );
    this.rate = new CompiledMachine(m.rateWindow ?? rateWindowMachine);
    const link = (m.deviceLink ?? deviceLinkMachine).provide({
      delays: {
        heartbeatTimeout: ({ context }) => (context.platform === 'web' ? limits().webHeartbeatTimeoutMs : limits().nativeHeartbeatTimeoutMs),
      },
    });
    this.link = new CompiledMachine(link);
    this.linkDelays = Object.keys((link.implementations as { delays: Record<string, unknown> }).delays);
    this.flap = new CompiledMachine((m.flap ?? flapMachine).provide({ delays: { flapGrace: () => limits().flapGraceMs } }));
    this.flapInitial = this.flap.initial().snapshot;
    this.userInitial = { ...this.user.initial().snapshot, seq: 0 };
    this.subsInitial = this.subs.initial().snapshot;
    this.rateInitial = this.rate.initial().snapshot;
  }
}
