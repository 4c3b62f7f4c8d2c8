// One user's status across all of its devices: ST-1..8, DEV-1..4, CS-1..7 and the versions and reasons of
// EXT-1/EXT-2. Pure: no I/O and no clock; the delay is named, and everything the outside world must hear
// about leaves the machine as an emitted event.
import { and, assign, emit, setup } from 'xstate';
import {
  DEFAULT_LIMITS,
  TYPES,
  isNativePlatform,
  type Platform,
  type Reason,
  type StatusType,
} from './spec';

/** A logged-in device. `connected: false` is a native device that is logged in but offline (DEV-3). */
export interface DeviceRecord {
  id: string;
  platform: Platform;
  connected: boolean;
}

export interface UserStatusContext {
  /** ST-3: set on entry to each of the aggregate states, so it always agrees with the state. */
  statusType: StatusType;
  customStatus: string;
  /** EXT-2: grows by one with every change of statusType or customStatus. */
  version: number;
  /** EXT-1: the reason of the last change. */
  reason: Reason;
  /** Logged-in devices, oldest login first (DEV-4 kicks the oldest of a platform). */
  devices: DeviceRecord[];
  /** EXT-5: who may see this status; others see UNLOGINED with no custom status. */
  visibility: Visibility;
  /** EXT-5: the version of the last change of visibility: the only version hidden viewers see. */
  visibilityVersion: number;
}

export type Visibility = 'everyone' | 'friends' | 'nobody';

export type UserStatusEvent =
  /** `cap` is the device limit of that platform (DEV-4), read from the engine's limits at the time. */
  | { type: 'DEVICE.LOGIN'; deviceId: string; platform: Platform; cap: number }
  /** DEV-1: the device's session comes back after a drop: a dropped web device logs in again. */
  | { type: 'DEVICE.RECONNECT'; deviceId: string; platform: Platform; cap: number }
  | { type: 'DEVICE.LOGOUT'; deviceId: string }
  | { type: 'DEVICE.DISCONNECT'; deviceId: string; reason: 'link_closed' | 'heartbeat_timeout' }
  | { type: 'DEVICE.BACKGROUND'; deviceId: string }
  | { type: 'DEVICE.FOREGROUND'; deviceId: string }
  | { type: 'STATUS.SET'; customStatus: string }
  /** EXT-5: going invisible or visible is delivered like a real change. */
  | { type: 'VISIBILITY.SET'; visibility: Visibility };

export type UserStatusEmitted =
  /** A change that NTF-2 fans out: statusType or customStatus moved, version grew by one. */
  | {
      type: 'status.changed';
      statusType: StatusType;
      customStatus: string;
      version: number;
      reason: Reason;
    }
  /**
   * DEV-4: a newer login on the same platform pushed these devices out (code 3002): the oldest one, or more
   * when the cap was lowered since they logged in.
   */
  | { type: 'device.kicked'; deviceIds: string[] };

export const initialUserStatusContext = (): UserStatusContext => ({
  statusType: TYPES.USER_STATUS_UNLOGINED,
  customStatus: '',
  version: 0,
  reason: 'registered',
  devices: [],
  visibility: 'everyone',
  visibilityVersion: 0,
});

type DeviceEvent = Extract<UserStatusEvent, { deviceId: string }>;
/** A key of TYPES: what the entry actions of the aggregate states name. */
type StatusTypeName = keyof typeof TYPES;
type LoginEvent = Extract<UserStatusEvent, { type: 'DEVICE.LOGIN' | 'DEVICE.RECONNECT' }>;

const deviceOf = (context: UserStatusContext, event: UserStatusEvent): DeviceRecord | undefined =>
  'deviceId' in event ? context.devices.find((d) => d.id === event.deviceId) : undefined;
const others = (context: UserStatusContext, event: UserStatusEvent): DeviceRecord[] =>
  'deviceId' in event ? context.devices.filter((d) => d.id !== event.deviceId) : context.devices;
const withDevice = (context: UserStatusContext, id: string, connected: boolean): DeviceRecord[] =>
  context.devices.map((d) => (d.id === id ? { ...d, connected } : d));

/** DEV-4: the oldest devices of the event's platform that must go so that the new one fits under its cap. */
function oldestOverCap(context: UserStatusContext, e: LoginEvent): DeviceRecord[] {
  const same = context.devices.filter((d) => d.platform === e.platform);
  return same.slice(0, Math.max(0, same.length - e.cap + 1));
}

/** EXT-1: the reason a change caused by `event` carries. */
export function reasonOf(event: UserStatusEvent | { type: string }): Reason {
  switch (event.type) {
    case 'DEVICE.LOGIN':
      return 'login';
    case 'DEVICE.RECONNECT':
      return 'reconnect';
    case 'DEVICE.LOGOUT':
      return 'logout';
    case 'DEVICE.DISCONNECT':
      return (event as Extract<UserStatusEvent, { type: 'DEVICE.DISCONNECT' }>).reason;
    case 'DEVICE.BACKGROUND':
      return 'background';
    case 'DEVICE.FOREGROUND':
      return 'foreground';
    case 'STATUS.SET':
      return (event as Extract<UserStatusEvent, { type: 'STATUS.SET' }>).customStatus === ''
        ? 'custom_status_cleared'
        : 'custom_status_set';
    case 'VISIBILITY.SET':
      return 'visibility_changed';
    default:
      return 'custom_status_expired';
  }
}

const machineSetup = setup({
  types: {
    context: {} as UserStatusContext,
    events: {} as UserStatusEvent,
    emitted: {} as UserStatusEmitted,
    input: {} as Partial<UserStatusContext> | undefined,
  },
  guards: {
    /** The event's device is logged in and connected. */
    deviceUp: ({ context, event }) => deviceOf(context, event)?.connected === true,
    /** The event's device is a native device, logged in but disconnected (DEV-3). */
    deviceParked: ({ context, event }) => deviceOf(context, event)?.connected === false,
    deviceUnknown: ({ context, event }) => deviceOf(context, event) === undefined,
    /** A web device has no background; an unknown or already disconnected device has nothing to lose. */
    deviceCannotGoBackground: ({ context, event }) => {
      const d = deviceOf(context, event);
      return d === undefined || !d.connected || !isNativePlatform(d.platform);
    },
    nativeDevice: ({ context, event }) => {
      const d = deviceOf(context, event);
      return d !== undefined && isNativePlatform(d.platform);
    },
    otherDeviceConnected: ({ context, event }) => others(context, event).some((d) => d.connected),
    otherDeviceLoggedIn: ({ context, event }) => others(context, event).length > 0,
    otherNativeLoggedIn: ({ context, event }) =>
      others(context, event).some((d) => isNativePlatform(d.platform)),
    /** DEV-3 while another device keeps the user ONLINE (a named guard, so the Stately editor shows it). */
    nativeDeviceAndOtherConnected: and(['nativeDevice', 'otherDeviceConnected']),
    /** DEV-4: the platform of the logging-in device already holds `cap` devices. */
    platformFull: ({ context, event }) => {
      const e = event as LoginEvent;
      return context.devices.filter((d) => d.platform === e.platform).length >= e.cap;
    },
    hasCustomStatus: ({ context }) => context.customStatus !== '',
    /** CS-7: setting the same value again changes nothing. */
    customStatusChanges: ({ context, event }) =>
      (event as Extract<UserStatusEvent, { type: 'STATUS.SET' }>).customStatus !== context.customStatus,
    visibilityChanges: ({ context, event }) =>
      (event as Extract<UserStatusEvent, { type: 'VISIBILITY.SET' }>).visibility !== context.visibility,
  },
  actions: {
    addDevice: assign({
      devices: ({ context, event }) => {
        const e = event as LoginEvent;
        return [...context.devices, { id: e.deviceId, platform: e.platform, connected: true }];
      },
    }),
    connectDevice: assign({
      devices: ({ context, event }) => withDevice(context, (event as DeviceEvent).deviceId, true),
    }),
    /** DEV-3: a native device stays logged in without a connection. */
    parkDevice: assign({
      devices: ({ context, event }) => withDevice(context, (event as DeviceEvent).deviceId, false),
    }),
    /** Logout, or DEV-2: a dropped web device counts as logged out. */
    removeDevice: assign({ devices: ({ context, event }) => others(context, event) }),
    /** DEV-4: tell the oldest device of the platform that it is kicked out ... */
    announceKick: emit(({ context, event }) => ({
      type: 'device.kicked' as const,
      deviceIds: oldestOverCap(context, event as LoginEvent).map((d) => d.id),
    })),
    /** ... and log them out. */
    removeOldestOfPlatform: assign({
      devices: ({ context, event }) => {
        const out = new Set(oldestOverCap(context, event as LoginEvent));
        return context.devices.filter((d) => !out.has(d));
      },
    }),
    setCustomStatus: assign({
      customStatus: ({ event }) => (event as Extract<UserStatusEvent, { type: 'STATUS.SET' }>).customStatus,
    }),
    setVisibility: assign({
      visibility: ({ event }) => (event as Extract<UserStatusEvent, { type: 'VISIBILITY.SET' }>).visibility,
    }),
    /** EXT-5: hidden viewers see this version until the next change of visibility, so nothing else leaks. */
    markVisibilityVersion: assign({ visibilityVersion: ({ context }) => context.version }),
    /** CS-5: passive clearing. */
    clearCustomStatus: assign({ customStatus: '' }),
    /**
     * A visible change: take the entered state's statusType (if any), grow the version, record the reason.
     * The statusType param is the SDK's name of the status (a literal, so the Stately editor shows it).
     */
    commit: assign(({ context, event }, params: { statusType?: StatusTypeName; reason?: Reason } | undefined) => ({
      statusType: params?.statusType === undefined ? context.statusType : TYPES[params.statusType],
      version: context.version + 1,
      reason: params?.reason ?? reasonOf(event),
    })),
    /** ... and tell the world: NTF-2 fans it out, the journal records it (EXT-3). */
    announce: emit(({ context }) => ({
      type: 'status.changed' as const,
      statusType: context.statusType,
      customStatus: context.customStatus,
      version: context.version,
      reason: context.reason,
    })),
  },
  delays: {
    /** CS-5: how long an UNLOGINED user keeps its custom status. */
    customStatusClearAfterLogout: DEFAULT_LIMITS.customStatusClearAfterLogoutMs,
  },
});

export const userStatusMachine = machineSetup.createMachine({
  id: 'userStatus',
  context: ({ input }) => ({ ...initialUserStatusContext(), ...input }),
  initial: 'registered',
  on: {
    'VISIBILITY.SET': { guard: 'visibilityChanges', actions: ['setVisibility', 'commit', 'markVisibilityVersion', 'announce'] },
  },
  states: {
    registered: {
      description: 'ST-6: registered and never logged in (UNLOGINED).',
      on: {
        'DEVICE.LOGIN': { target: 'online', actions: 'addDevice' },
        'DEVICE.RECONNECT': { target: 'online', actions: 'addDevice' },
      },
    },
    online: {
      description: 'ST-4: at least one device is logged in and connected.',
      entry: [{ type: 'commit', params: { statusType: 'USER_STATUS_ONLINE' } }, 'announce'],
      on: {
        // ST-8: another device changes nothing visible. DEV-4: a full platform kicks its oldest device.
        'DEVICE.LOGIN': [
          { guard: 'deviceUp' },
          { guard: 'deviceParked', actions: 'connectDevice' },
          { guard: 'platformFull', actions: ['announceKick', 'removeOldestOfPlatform', 'addDevice'] },
          { actions: 'addDevice' },
        ],
        // DEV-1: a reconnect is a login again (the test of the machine checks that the two lists agree).
        'DEVICE.RECONNECT': [
          { guard: 'deviceUp' },
          { guard: 'deviceParked', actions: 'connectDevice' },
          { guard: 'platformFull', actions: ['announceKick', 'removeOldestOfPlatform', 'addDevice'] },
          { actions: 'addDevice' },
        ],
        'DEVICE.FOREGROUND': { guard: 'deviceParked', actions: 'connectDevice' },
        'DEVICE.LOGOUT': [
          { guard: 'deviceUnknown' },
          { guard: 'otherDeviceConnected', actions: 'removeDevice' },
          { guard: 'otherNativeLoggedIn', target: 'offline', actions: 'removeDevice' },
          { target: 'unlogined', actions: 'removeDevice' },
        ],
        'DEVICE.DISCONNECT': [
          { guard: 'deviceUnknown' },
          { guard: 'deviceParked' },
          // DEV-3: a native device stays logged in, disconnected.
          { guard: 'nativeDeviceAndOtherConnected', actions: 'parkDevice' },
          { guard: 'nativeDevice', target: 'offline', actions: 'parkDevice' },
          // DEV-2: a web device is dropped at once.
          { guard: 'otherDeviceConnected', actions: 'removeDevice' },
          { guard: 'otherNativeLoggedIn', target: 'offline', actions: 'removeDevice' },
          { target: 'unlogined', actions: 'removeDevice' },
        ],
        'DEVICE.BACKGROUND': [
          { guard: 'deviceCannotGoBackground' },
          { guard: 'otherDeviceConnected', actions: 'parkDevice' },
          { target: 'offline', actions: 'parkDevice' },
        ],
        'STATUS.SET': { guard: 'customStatusChanges', actions: ['setCustomStatus', 'commit', 'announce'] },
      },
    },
    offline: {
      description: 'ST-5: no device connected, a native device still logged in. CS-5: custom status cleared at once.',
      entry: ['clearCustomStatus', { type: 'commit', params: { statusType: 'USER_STATUS_OFFLINE' } }, 'announce'],
      on: {
        'DEVICE.LOGIN': [
          { guard: 'deviceParked', target: 'online', actions: 'connectDevice' },
          { guard: 'platformFull', target: 'online', actions: ['announceKick', 'removeOldestOfPlatform', 'addDevice'] },
          { target: 'online', actions: 'addDevice' },
        ],
        'DEVICE.RECONNECT': [
          { guard: 'deviceParked', target: 'online', actions: 'connectDevice' },
          { guard: 'platformFull', target: 'online', actions: ['announceKick', 'removeOldestOfPlatform', 'addDevice'] },
          { target: 'online', actions: 'addDevice' },
        ],
        'DEVICE.FOREGROUND': { guard: 'deviceParked', target: 'online', actions: 'connectDevice' },
        'DEVICE.LOGOUT': [
          { guard: 'deviceUnknown' },
          { guard: 'otherDeviceLoggedIn', actions: 'removeDevice' },
          { target: 'unlogined', actions: 'removeDevice' },
        ],
      },
    },
    unlogined: {
      description: 'ST-6: every device logged out or dropped. CS-5: the custom status is cleared after a delay.',
      entry: [{ type: 'commit', params: { statusType: 'USER_STATUS_UNLOGINED' } }, 'announce'],
      initial: 'decide',
      states: {
        decide: {
          always: [{ guard: 'hasCustomStatus', target: 'clearPending' }, { target: 'settled' }],
        },
        clearPending: {
          after: {
            customStatusClearAfterLogout: {
              target: 'settled',
              actions: ['clearCustomStatus', { type: 'commit', params: { reason: 'custom_status_expired' } }, 'announce'],
            },
          },
        },
        settled: {},
      },
      on: {
        'DEVICE.LOGIN': { target: 'online', actions: 'addDevice' },
        'DEVICE.RECONNECT': { target: 'online', actions: 'addDevice' },
      },
    },
  },
});
