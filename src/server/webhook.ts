// EXT-8: state changes posted to an HTTP callback, in the shape of the product's State.StateChange callback.
// The server hears the engine's transitions through core.onTransition
// and queues them here; delivery never blocks status delivery. The queue is bounded (a full queue drops the
// newest event, with a log line), sends one at a time in order, and retries a failure with exponential
// backoff on the injected clock. Each post is signed: HMAC-SHA256 of `${timestamp}.${body}` with the secret.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Command, StatusTransition } from '../types';
import { PLATFORM_NAMES } from './rest';

export const SIGNATURE_HEADER = 'x-status-engine-signature';
export const TIMESTAMP_HEADER = 'x-status-engine-timestamp';
export const DELIVERY_HEADER = 'x-status-engine-delivery';

export interface StateChangeCallback {
  CallbackCommand: 'State.StateChange';
  EventTime: number;
  Info: { Action: 'Login' | 'Logout' | 'Disconnect'; To_Account: string; Reason: string };
  KickedDevice: Array<{ Platform: string }>;
  /** This engine's own fields: the user's status after the step (EXT-1, EXT-2), its logged-in devices, the journal seq. */
  StatusEngine: { statusType: number; customStatus: string; version: number; reason: string; seq: number; devices: number; deviceId?: string; platform?: string };
}

export interface WebhookOptions {
  url: string;
  secret?: string;
  sdkAppId: number;
  clock: Clock;
  logger: Logger;
  /** Events waiting at most; one more is dropped (and logged). Default 10,000. */
  maxQueue?: number;
  /** Attempts per event before it is dropped (and logged). Default 8. */
  maxAttempts?: number;
  /** First retry after this, doubling each time up to maxDelayMs. Defaults 1,000 and 60,000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One attempt's network timeout (real time). Default 5,000. */
  timeoutMs?: number;
}

/** The device steps that Tencent's callback reports, with its Action and Reason for each. */
const DEVICE_STEPS: Record<string, { Action: StateChangeCallback['Info']['Action']; Reason: string } | undefined> = {
  'DEVICE.LOGIN': { Action: 'Login', Reason: 'Register' },
  'DEVICE.RECONNECT': { Action: 'Login', Reason: 'Register' },
  'DEVICE.FOREGROUND': { Action: 'Login', Reason: 'Register' },
  'DEVICE.LOGOUT': { Action: 'Logout', Reason: 'Unregister' },
  'DEVICE.BACKGROUND': { Action: 'Disconnect', Reason: 'Background' },
};

/**
 * One callback per device step, as the product posts one per instance that logs in, logs out or drops
 * (a second device logging in is posted too, though the user's status does not move, ST-8). Steps that are
 * not a device's (custom status, visibility, timers) post nothing. `cause` is the command that caused the
 * step, when the reader saw it: it names the platform of a kicked device (DEV-4 kicks on the same platform).
 */
export function callbackOf(e: StatusTransition, cause?: Command): StateChangeCallback | null {
  let step = DEVICE_STEPS[e.event];
  if (e.event === 'DEVICE.DISCONNECT') {
    step = { Action: 'Disconnect', Reason: e.reason === 'heartbeat_timeout' ? 'TimeOut' : 'LinkClose' };
  }
  if (!step) return null;
  const platform = cause && 'platform' in cause ? cause.platform : undefined;
  return {
    CallbackCommand: 'State.StateChange',
    EventTime: e.at,
    Info: { Action: step.Action, To_Account: e.userID, Reason: step.Reason },
    KickedDevice: e.reason === 'kicked' && platform ? [{ Platform: PLATFORM_NAMES[platform] }] : [],
    StatusEngine: {
      statusType: e.after.statusType,
      customStatus: e.after.customStatus,
      version: e.version,
      reason: e.reason,
      seq: e.seq,
      devices: e.devices,
      ...(cause && 'deviceId' in cause ? { deviceId: cause.deviceId } : {}),
      ...(platform ? { platform } : {}),
    },
  };
}

export class Webhook {
  private readonly queue: StateChangeCallback[] = [];
  private attempts = 0;
  private busy = false;
  private retryTimer: unknown = null;
  private closed = false;
  readonly counts = { delivered: 0, failedAttempts: 0, dropped: 0 };

  constructor(private readonly o: WebhookOptions) {}

  enqueue(event: StateChangeCallback): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueue ?? 10_000)) {
      this.counts.dropped++;
      this.o.logger.warn({ userID: event.Info.To_Account, seq: event.StatusEngine.seq, queued: this.queue.length }, 'webhook queue full: event dropped');
      return;
    }
    this.queue.push(event);
    this.pump();
  }

  stats() {
    return { ...this.counts, queued: this.queue.length, backingOff: this.retryTimer !== null, attempts: this.attempts };
  }

  private pump(): void {
    if (this.busy || this.retryTimer !== null || this.closed) return;
    const head = this.queue[0];
    if (!head) return;
    this.busy = true;
    void this.post(head).then((ok) => {
      this.busy = false;
      if (this.closed) return;
      if (ok) {
        this.queue.shift();
        this.attempts = 0;
        this.counts.delivered++;
        this.pump();
        return;
      }
      this.attempts++;
      this.counts.failedAttempts++;
      if (this.attempts >= (this.o.maxAttempts ?? 8)) {
        this.queue.shift();
        this.attempts = 0;
        this.counts.dropped++;
        this.o.logger.error({ userID: head.Info.To_Account, seq: head.StatusEngine.seq }, 'webhook gave up on an event after its last attempt: dropped');
        this.pump();
        return;
      }
      const delay = Math.min(this.o.maxDelayMs ?? 60_000, (this.o.baseDelayMs ?? 1000) * 2 ** (this.attempts - 1));
      this.retryTimer = this.o.clock.setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, delay);
    });
  }

  private async post(event: StateChangeCallback): Promise<boolean> {
    const body = JSON.stringify(event);
    const timestamp = String(this.o.clock.now());
    const url = new URL(this.o.url);
    url.searchParams.set('SdkAppid', String(this.o.sdkAppId));
    url.searchParams.set('CallbackCommand', event.CallbackCommand);
    url.searchParams.set('contenttype', 'json');
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [DELIVERY_HEADER]: String(event.StatusEngine.seq),
    };
    if (this.o.secret) headers[SIGNATURE_HEADER] = `sha256=${signature(this.o.secret, timestamp, body)}`;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      this.o.logger.warn({ status: res.status, seq: event.StatusEngine.seq, attempt: this.attempts + 1 }, 'webhook refused');
      return false;
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, seq: event.StatusEngine.seq, attempt: this.attempts + 1 }, 'webhook unreachable');
      return false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) this.o.clock.clearTimeout(this.retryTimer);
    if (this.queue.length > 0) this.o.logger.warn({ queued: this.queue.length }, 'webhook events not delivered at shutdown');
  }
}

/** What a receiver checks: hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}
