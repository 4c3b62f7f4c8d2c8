// `serve --inspect ws://HOST:PORT`: the engine's machines sent over a WebSocket as @statelyai/inspect's
// WebSocket inspector sends them (its own converter makes the JSON events), to `createInspectorServer` or
// any relay of that protocol. Unlike the library's adapter it starts every connection with the current actors,
// sends them again when a viewer announces itself (`@statelyai.connected`), and queues nothing while down.
import { createInspector } from '@statelyai/inspect';
import type { Logger } from 'pino';
import { systemClock } from '../clock';
import WebSocket from 'ws';
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../clock';
import { ATTACH_BRIDGE, type InspectBridge } from '../engine/inspect';
import type { ClusterService } from '../cluster/service';

export interface InspectLinkOptions {
  url: string;
  /** Default: the real clock (give the engine's, so that tests drive both). */
  clock?: Clock;
  /** Default: silent. Anything with pino's info/warn/debug(obj, msg) works. */
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** First wait before reconnecting; doubles up to maxReconnectMs. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** A viewer's request for the current actors is served at most this often. */
  announceEveryMs?: number;
}

export interface InspectLink {
  /** The engine's `inspect` option. */
  readonly inspect: Observer<InspectionEvent>;
  /** `waiting`: down, with a reconnect armed on the clock. */
  stats(): { connected: boolean; waiting: boolean; sent: number; dropped: number; announcements: number; bridges: number };
  /**
   * Cluster mode: an engine this node no longer runs (its shard released or lost). Its actors are reported
   * stopped (a snapshot with status 'stopped', as XState reports a stopped actor) and are no longer announced.
   */
  release(bridge: InspectBridge): void;
  close(): void;
}

const SILENT = { info() {}, warn() {}, debug() {} } as unknown as Pick<Logger, 'info' | 'warn' | 'debug'>;

/** Messages from the relay over this are not read (a viewer's hello is a few bytes). */
const MAX_INBOUND_BYTES = 64 * 1024;

export function createInspectLink(o: InspectLinkOptions): InspectLink {
  const log = o.logger ?? SILENT;
  const clock = o.clock ?? systemClock;
  const baseDelay = o.reconnectMs ?? 1000;
  const maxDelay = o.maxReconnectMs ?? 30_000;
  const announceEvery = o.announceEveryMs ?? 1000;
  /** One per engine: one process has one; a cluster node one per shard it owns (src/server/inspectCluster.ts). */
  const bridges = new Set<InspectBridge>();
  /** Actors XState runs itself (the access machine), by session: announced with the bridge's. */
  const realActors = new Map<string, InspectionEvent>();
  let ws: WebSocket | null = null;
  let open = false;
  let closed = false;
  let delay = baseDelay;
  let retry: unknown = null;
  let lastAnnounce = -Infinity;
  let announceTimer: unknown = null;
  const counts = { sent: 0, dropped: 0, announcements: 0 };

  const adapter = {
    send(event: unknown) {
      if (!open || !ws || ws.readyState !== WebSocket.OPEN) {
        counts.dropped++;
        return;
      }
      let text: string;
      try {
        text = JSON.stringify(event);
      } catch (err) {
        counts.dropped++;
        log.warn({ err }, 'an inspection event could not be serialised');
        return;
      }
      ws.send(text);
      counts.sent++;
    },
    start() {},
    stop() {},
  };
  const converter = createInspector(adapter);

  /** Current actors first (parents before children, as the bridge lists them), then live events. */
  const announce = () => {
    if (!open) return;
    lastAnnounce = clock.now();
    counts.announcements++;
    for (const e of realActors.values()) converter.inspect.next?.(e);
    for (const b of bridges) for (const e of b.current()) converter.inspect.next?.(e);
  };
  const announceSoon = () => {
    const wait = lastAnnounce + announceEvery - clock.now();
    if (wait <= 0) return announce();
    if (announceTimer !== null) return;
    announceTimer = clock.setTimeout(() => {
      announceTimer = null;
      announce();
    }, wait);
  };

  const connect = () => {
    retry = null;
    if (closed) return;
    const socket = new WebSocket(o.url, { maxPayload: MAX_INBOUND_BYTES, handshakeTimeout: 10_000, perMessageDeflate: false });
    ws = socket;
    socket.on('open', () => {
      open = true;
      delay = baseDelay;
      log.info({ url: o.url }, 'inspection: connected');
      announce();
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return; // the relay forwards everything; what is not a hello is none of ours
      }
      if (msg !== null && typeof msg === 'object' && (msg as { type?: unknown }).type === '@statelyai.connected') announceSoon();
    });
    socket.on('error', (err) => log.debug({ err, url: o.url }, 'inspection: socket error'));
    socket.on('close', () => {
      if (ws === socket) {
        ws = null;
        if (open) log.warn({ url: o.url }, 'inspection: disconnected; reconnecting');
        open = false;
      }
      if (!closed && retry === null) {
        retry = clock.setTimeout(connect, delay);
        delay = Math.min(maxDelay, delay * 2);
      }
    });
  };

  const inspect: Observer<InspectionEvent> & Record<symbol, unknown> = {
    next(e: InspectionEvent) {
      // Real actors (not the bridge's stand-ins) are remembered for the next announcement.
      if (e.type === '@xstate.actor' && !bridgeOwns(e)) {
        realActors.set(e.actorRef.sessionId, e);
        // The access machine is made again when a settings change fails: keep the newest few only.
        if (realActors.size > 8) realActors.delete(realActors.keys().next().value as string);
      }
      // Down, nothing is queued: the next connection starts with the current actors anyway.
      if (!open) {
        counts.dropped++;
        return;
      }
      converter.inspect.next?.(e);
    },
    [ATTACH_BRIDGE]: (b: InspectBridge) => {
      bridges.add(b);
    },
  };
  const bridgeOwns = (e: InspectionEvent) => /^(userStatus|subscriptions|rateWindow|deviceLink):/.test(e.actorRef.sessionId);

  connect();
  return {
    inspect,
    stats: () => ({ connected: open, waiting: retry !== null, ...counts, bridges: bridges.size }),
    release(b) {
      if (!bridges.delete(b)) return;
      for (const r of b.current()) {
        if (r.type !== '@xstate.actor') continue;
        const snapshot = { ...(r.actorRef.getSnapshot() as object), status: 'stopped' };
        inspect.next?.({ type: '@xstate.snapshot', actorRef: r.actorRef, event: { type: 'xstate.stop' }, snapshot, rootId: r.rootId } as InspectionEvent);
      }
    },
    close() {
      closed = true;
      if (retry !== null) clock.clearTimeout(retry);
      if (announceTimer !== null) clock.clearTimeout(announceTimer);
      open = false;
      ws?.close();
      ws = null;
    },
  };
}

/**
 * Cluster mode (`serve --redis ... --inspect`): each shard engine this node runs has its own bridge on the
 * one link; when the node stops running a shard (released to another node, lost, or rebuilt) that engine's
 * actors are reported stopped, and the new owner's link shows them as its users act there.
 */
export function followShards(link: Pick<InspectLink, 'release'>, service: Pick<ClusterService, 'onShardLost' | 'onShardTaken'>): () => void {
  const byShard = new Map<number, InspectBridge>();
  const offTaken = service.onShardTaken?.((shard, bridge) => {
    if (bridge) byShard.set(shard, bridge);
  });
  const offLost = service.onShardLost((shard) => {
    const b = byShard.get(shard);
    if (b === undefined) return;
    byShard.delete(shard);
    link.release(b);
  });
  return () => {
    offTaken?.();
    offLost();
  };
}
