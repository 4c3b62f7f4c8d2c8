// One device (one SDK instance) attached to an engine: what the in-process client and each server socket
// hold. Front-ends read it through the port's `DeviceHandle` (src/engine/port.ts); only the engine writes it.
import type { DeviceLinkContext } from '../../machines/deviceLink';
import type { Platform } from '../../machines/spec';
import type { ClientEvent } from '../events';
import type { RunnerSnapshot } from '../records';

/** Receives what the engine sends to one device; `seq` is the journal position of the change (EXT-2). */
export type DeviceSink = (event: ClientEvent, seq: number) => void;

/** The link as a front-end sees it: heartbeats flowing, gone quiet (waiting out its timeout), or closed. */
export type LinkState = 'live' | 'silent' | 'closed';

export class DeviceSession {
  // The four fields a delivery reads come first, next to the object's header, so that a fan-out reads one
  // or two cache lines of each recipient's session rather than two or three (fields are laid out in order).
  /**
   * Whether deliveries reach it: logged in, connected, and its link live. A field kept by the three setters
   * below, because the fan-out reads it for every recipient of every change.
   */
  receiving = false;
  readonly sink: DeviceSink;
  /** The seq up to which it has heard everything addressed to it, for resume (EXT-2). */
  lastSeq = 0;
  /**
   * Engines side by side (no sequence spans them): the version of each user it last heard, for resume by
   * versions (EXT-2). Null: not kept (an engine that owns every user resumes by its seq).
   */
  heard: Map<string, number> | null = null;
  readonly deviceId: string;
  platform: Platform;
  private userValue: string | null = null;
  private loggedInValue = false;
  private connectedValue = false;
  private linkValue: RunnerSnapshot<DeviceLinkContext> | null = null;

  constructor(platform: Platform, sink: DeviceSink, deviceId?: string) {
    this.sink = sink;
    this.platform = platform;
    // Unguessable: a device id is what a resume names (the gateway signs it into session keys as well).
    // The Web Crypto global (Node 20, browsers): the engine bundles for the browser too.
    this.deviceId = deviceId ?? `dev-${globalThis.crypto.randomUUID()}`;
  }

  /** The user this device is logged in as, or was until a drop (a dropped web device logs in again on reconnect). */
  get userID(): string | null {
    return this.userValue;
  }
  set userID(v: string | null) {
    if (v === null && this.loggedInValue) throw loggedInAsNobody();
    this.userValue = v;
  }

  /** Logged in according to the user's status machine. */
  get loggedIn(): boolean {
    return this.loggedInValue;
  }
  set loggedIn(v: boolean) {
    if (v && this.userValue === null) throw loggedInAsNobody();
    this.loggedInValue = v;
    this.refresh();
  }
  /** The engine's view: connected according to the user's status machine. */
  get connected(): boolean {
    return this.connectedValue;
  }
  set connected(v: boolean) {
    this.connectedValue = v;
    this.refresh();
  }
  /** The link machine's snapshot (heartbeats flowing), or null before a login. */
  get link(): RunnerSnapshot<DeviceLinkContext> | null {
    return this.linkValue;
  }
  set link(v: RunnerSnapshot<DeviceLinkContext> | null) {
    this.linkValue = v;
    this.refresh();
  }

  /** The link's state by name, so that no front-end compares the machine's state ids. */
  get linkState(): LinkState | null {
    const v = this.linkValue?.value;
    if (v === undefined) return null;
    return v === 'deviceLink.live' ? 'live' : v === 'deviceLink.silent' ? 'silent' : 'closed';
  }

  private refresh(): void {
    this.receiving = this.loggedInValue && this.connectedValue && this.linkValue?.value === 'deviceLink.live';
  }
}

/**
 * A session logged in has a user: one logged in as nobody can neither resume (its user is gone) nor log in
 * again (it is logged in), so its device would be lost for good. A step that would make it is a bug: refused.
 */
function loggedInAsNobody(): Error {
  return new Error('DeviceSession invariant: a session cannot be logged in without a user (log it out first)');
}

export interface LoginResult {
  repeatLogin: boolean;
  status: import('../records').UserStatus;
}
