// DEV-2/DEV-3 timing: one device's link. While heartbeats arrive the link is `live`; when they stop
// (network lost with the app still running) the link waits `heartbeatTimeout` (web and native differ)
// and then reports the device as gone. A closed link is reported at once. What a lost link means for the
// user's status (dropped web device, disconnected native one) is the user status machine's business.
import { emit, setup } from 'xstate';
import { DEFAULT_LIMITS, type Platform } from './spec';

export interface DeviceLinkContext {
  platform: Platform;
}

export type DeviceLinkEvent =
  | { type: 'LINK.SILENT' }
  | { type: 'LINK.HEARTBEAT' }
  | { type: 'LINK.CLOSED' }
  | { type: 'LINK.OPEN' };

export type DeviceLinkEmitted = { type: 'link.lost'; reason: 'link_closed' | 'heartbeat_timeout' };

export const deviceLinkMachine = setup({
  types: {
    context: {} as DeviceLinkContext,
    events: {} as DeviceLinkEvent,
    emitted: {} as DeviceLinkEmitted,
    input: {} as DeviceLinkContext,
  },
  actions: {
    reportClosed: emit({ type: 'link.lost' as const, reason: 'link_closed' as const }),
    reportTimeout: emit({ type: 'link.lost' as const, reason: 'heartbeat_timeout' as const }),
  },
  delays: {
    /** DEV-2: `webHeartbeatTimeoutMs` for web devices; DEV-3: `nativeHeartbeatTimeoutMs` for the others. */
    heartbeatTimeout: ({ context }) =>
      context.platform === 'web' ? DEFAULT_LIMITS.webHeartbeatTimeoutMs : DEFAULT_LIMITS.nativeHeartbeatTimeoutMs,
  },
}).createMachine({
  id: 'deviceLink',
  context: ({ input }) => ({ platform: input.platform }),
  initial: 'live',
  states: {
    live: {
      on: {
        'LINK.SILENT': { target: 'silent' },
        'LINK.CLOSED': { target: 'closed', actions: 'reportClosed' },
      },
    },
    silent: {
      description: 'Heartbeats stopped: the device is still counted until the timeout.',
      after: { heartbeatTimeout: { target: 'closed', actions: 'reportTimeout' } },
      on: {
        'LINK.HEARTBEAT': { target: 'live' },
        'LINK.CLOSED': { target: 'closed', actions: 'reportClosed' },
      },
    },
    closed: {
      on: { 'LINK.OPEN': { target: 'live' } },
    },
  },
});
