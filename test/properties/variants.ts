// Deliberately broken engines for the mutation tests: each is the real engine with one machine swapped for
// a variant that breaks one SPEC rule (through the `machines` option of createEngine), or one function of
// a rule module (src/engine/rules/) swapped for a broken one (createEngineWithRules). The model-based
// property must catch every one of them.
import { assign, createMachine, emit } from 'xstate';
import type { MachineOverrides } from '../../src/index';
import type { Rules } from '../../src/engine/rules/index';
import type { InternalMachines } from '../../src/engine/runners';
import { flapMachine } from '../../machines/flap';
import * as audience from '../../src/engine/rules/audience';
import * as coupling from '../../src/engine/rules/coupling';
import * as resume from '../../src/engine/rules/resume';
import * as views from '../../src/engine/rules/views';
import { accessMachine } from '../../machines/access';
import { rateWindowMachine, type RateWindowEvent } from '../../machines/rateWindow';
import { subscriptionsMachine, type SubscriptionsEvent } from '../../machines/subscriptions';
import { userStatusMachine, type DeviceRecord, type UserStatusEvent } from '../../machines/userStatus';

type LoginEvent = Extract<UserStatusEvent, { type: 'DEVICE.LOGIN' | 'DEVICE.RECONNECT' }>;

/** The same machine with a changed definition and the same implementations (guards, actions, delays). */
function rebuilt<M extends { config: object; implementations: object }>(machine: M, edit: (config: any) => void): M {
  const config = structuredClone(stripFunctions(machine.config));
  edit(config);
  return createMachine(restoreFunctions(config, machine.config) as never, machine.implementations as never) as unknown as M;
}

// structuredClone cannot copy functions (the context factory); keep them aside and put them back.
const FN = Symbol('fn');
function stripFunctions(v: any): any {
  if (typeof v === 'function') return { [FN]: true };
  if (Array.isArray(v)) return v.map(stripFunctions);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripFunctions(x)]));
  return v;
}
function restoreFunctions(copy: any, original: any): any {
  if (typeof original === 'function') return original;
  if (Array.isArray(copy)) return copy.map((x, i) => restoreFunctions(x, Array.isArray(original) ? original[i] : undefined));
  if (copy && typeof copy === 'object') {
    return Object.fromEntries(Object.entries(copy).map(([k, x]) => [k, restoreFunctions(x, original?.[k])]));
  }
  return copy;
}

const live = (stamps: readonly number[], e: RateWindowEvent) => stamps.filter((t) => t > e.now - e.windowMs);

/** The unbroken machines, rebuilt the same way: they must pass (so a caught variant is caught for its change). */
export const REBUILT: MachineOverrides = {
  userStatus: rebuilt(userStatusMachine, () => {}),
  subscriptions: rebuilt(subscriptionsMachine, () => {}),
};

/** The engine's own rule modules, for the broken rules below. */
const sees = views.sees;

export const BROKEN: Record<string, { clause: string; machines?: MachineOverrides; rules?: Partial<Rules>; internal?: InternalMachines }> = {
  // Mutations of the rule modules (src/engine/rules/), the three of issue 10 first.
  "'friends' visibility is treated as 'everyone'": {
    clause: 'EXT-5',
    rules: { sees: (visibility, cls) => sees(visibility === 'friends' ? 'everyone' : visibility, cls) },
  },
  'a comeback does not end a flap hold': {
    clause: 'EXT-7',
    internal: { flap: flapMachine.provide({ guards: { comeback: () => false } }) },
  },
  'the visibility version is not recorded: a hidden view keeps the version from before the change': {
    clause: 'EXT-2',
    rules: {
      visibilityChanged: (v, from, to, status, seq, see) => {
        const r = views.visibilityChanged(v, from, to, status, seq, see);
        const keep = (c: 'friends' | 'others') => (r.views[c] !== v[c] && r.views[c].statusType === 3 ? { ...r.views[c], version: v[c].version } : r.views[c]);
        return { views: { friends: keep('friends'), others: keep('others') }, told: r.told };
      },
    },
  },
  'friends are not told of changes (NTF-2 c): the audience leaves followers out': {
    clause: 'NTF-2',
    rules: { audience: (l, g) => audience.audience({ subscribers: l.subscribers, followers: undefined }, g) },
  },
  'a resume leaves out the user itself': {
    clause: 'EXT-2',
    rules: { resumeScope: (self, subs, friends, on) => { const s = resume.resumeScope(self, subs, friends, on); s.delete(self); return s; } },
  },
  'subscriptions are not told to clear when the owner logs out (UNSUB-5 coupling)': {
    clause: 'UNSUB-5',
    rules: { ownerEvent: (a, b) => { const e = coupling.ownerEvent(a, b); return e === 'OWNER.LOGGED_OUT' ? null : e; } },
  },
  // Mutations of the machines.
  'friend notifications ignore the friendStatusNotify switch': {
    clause: 'NTF-3',
    machines: { access: accessMachine.provide({ guards: { friendNotifyOn: () => true } }) },
  },
  'the userStatus switch is ignored': {
    clause: 'GATE-3',
    machines: { access: accessMachine.provide({ guards: { userStatusSwitchOff: () => false } }) },
  },
  'eviction removes the newest subscription': {
    clause: 'SUB-8',
    machines: {
      subscriptions: subscriptionsMachine.provide({
        actions: {
          add: assign({
            list: ({ context, event }) => {
              const e = event as Extract<SubscriptionsEvent, { type: 'SUB.ADD' }>;
              const incoming = new Set(e.userIDs);
              return [...context.list.filter((id) => !incoming.has(id)), ...incoming].slice(0, e.quota);
            },
          }),
        },
      }),
    },
  },
  'the rate window admits one call too many': {
    clause: 'LIM-1',
    machines: {
      rateWindow: rateWindowMachine.provide({
        guards: {
          takesLastPlace: ({ context, event }) => live(context.stamps, event).length === event.requests,
          hasRoom: ({ context, event }) => live(context.stamps, event).length <= event.requests,
        },
      }),
    },
  },
  'subscriptions are not cleared after logout': {
    clause: 'UNSUB-5',
    machines: { subscriptions: rebuilt(subscriptionsMachine, (c) => delete c.states.kept.on['OWNER.LOGGED_OUT']) },
  },
  'going OFFLINE keeps the custom status': {
    clause: 'CS-5',
    machines: {
      userStatus: rebuilt(userStatusMachine, (c) => (c.states.offline.entry = c.states.offline.entry.filter((a: unknown) => a !== 'clearCustomStatus'))),
    },
  },
  'setting the same custom status again notifies': {
    clause: 'CS-7',
    machines: { userStatus: userStatusMachine.provide({ guards: { customStatusChanges: () => true } }) },
  },
  'a login on a full platform kicks the newest device instead of the oldest': {
    clause: 'DEV-4',
    machines: {
      userStatus: userStatusMachine.provide({
        actions: {
          announceKick: emit(({ context, event }) => ({
            type: 'device.kicked' as const,
            deviceIds: [context.devices.findLast((d: DeviceRecord) => d.platform === (event as LoginEvent).platform)?.id ?? ''],
          })) as never,
          removeOldestOfPlatform: assign({
            devices: ({ context, event }) => {
              const i = context.devices.findLastIndex((d: DeviceRecord) => d.platform === (event as LoginEvent).platform);
              return context.devices.filter((_: DeviceRecord, j: number) => j !== i);
            },
          }) as never,
        },
      }),
    },
  },
};
