// The hub's asynchronous call path (cluster mode, src/cluster/service.ts): one frame of a connection at a
// time, in arrival order, each answered once prepared, called and acknowledged (pushes go out as the engine
// hands them over); a login of a user another node owns turns the socket into a relay to that node; a shard
// this node lost sends its users' sockets to reconnect. The synchronous path stays in hub.ts, unchanged.
import { StatusError } from '../../errors';
import { WireCode } from '../../protocol/codes';
import { PROTOCOL_VERSION, WS_PATH } from '../../protocol/messages';
import { routeLogin, type FrontCluster } from '../cluster/front';
import { CLOSE_MOVED, Relay } from '../cluster/relay';
import { lostSessionReason } from '../cluster/sessionLost';
import type { ClientHub } from '../hub';
import type { Conn } from './devices';
import { readFrame, toWire } from './frames';
import { provedUser, runOpAsync } from './ops';

const MOVED = CLOSE_MOVED;
const HEARTBEAT_TIMEOUT = 4008;

export function enqueue(hub: ClientHub, conn: Conn, data: Buffer, isBinary: boolean): void {
  (conn.queue ??= []).push({ data, isBinary });
  if (!conn.running) void drain(hub, conn);
}

async function drain(hub: ClientHub, conn: Conn): Promise<void> {
  conn.running = true;
  try {
    const q = conn.queue!;
    while (q.length > 0 && hub.conns.has(conn) && !hub.closing) {
      const f = q.shift()!;
      try {
        await handle(hub, conn, f.data, f.isBinary);
      } catch (err) {
        hub.log.error({ err, deviceId: conn.deviceId }, 'frame handling failed');
      }
    }
    if (!hub.conns.has(conn)) q.length = 0;
  } finally {
    conn.running = false;
  }
}

async function handle(hub: ClientHub, conn: Conn, data: Buffer, isBinary: boolean): Promise<void> {
  if (conn.relay) return conn.relay.send(data, isBinary);
  if (conn.silenced && conn.device) {
    // Any frame is a heartbeat: a link the hub had made silent comes back, prepared first (EXT-2).
    const s = conn.device.session;
    if (s.linkState === 'closed') return hub.cut(conn, HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    try {
      if (s.linkState === 'silent' && s.userID) {
        await hub.ops.prepare?.('reconnect', s, undefined);
        hub.core.reconnect(s);
      }
      conn.silenced = false;
    } catch (err) {
      hub.log.warn({ err, deviceId: conn.deviceId }, 'could not bring a silent link back');
    }
  }
  const frame = readFrame(data, isBinary, hub.o.maxFrameBytes);
  if (!frame.ok) return hub.replyError(conn, frame.id, frame.error);
  const { id, op, params } = frame;
  let result: unknown;
  try {
    const cluster = hub.o.cluster;
    if (cluster && !conn.device?.session.loggedIn) {
      const userID = provedUser(hub.ops, op, params);
      if (userID !== null) {
        const route = routeLogin(cluster, userID, conn.viaRelay === true);
        if (route.kind === 'relay') return startRelay(hub, conn, cluster, route.node, userID, data, isBinary);
        if (route.kind === 'refuse') {
          hub.replyError(conn, id, toWire(route.error));
          conn.link.close(MOVED, route.error.message);
          return;
        }
      }
    }
    result = await runOpAsync(hub.ops, conn, op, params);
  } catch (e) {
    // Sent to reconnect while the call waited (its shard moved or was rebuilt): the close says so, the call was
    // not answered (the client's pending call fails as a lost connection and it resumes elsewhere).
    if (!hub.conns.has(conn)) return;
    const lost = lostSessionReason(e, conn.device?.session.userID);
    if (lost !== null) return moved(hub, conn, lost);
    if (e instanceof StatusError) hub.replyError(conn, id, toWire(e));
    else {
      hub.log.error({ err: e, op, deviceId: conn.deviceId }, 'op failed');
      hub.replyError(conn, id, { code: WireCode.INTERNAL, message: 'internal error (logged on the server)' });
    }
    return;
  }
  hub.send(conn, { t: 'res', id, ok: true, data: result ?? {}, seq: hub.caughtUp(conn) });
  if (op === 'disconnect' || op === 'bye') conn.ws.close(1000, op === 'bye' ? 'bye' : 'link closed');
}

/** The user's owner is another node: from this frame on, the socket is piped there (the owner answers it). */
function startRelay(hub: ClientHub, conn: Conn, cluster: FrontCluster, node: string, userID: string, data: Buffer, isBinary: boolean): void {
  if (conn.device) hub.devices.detach(conn);
  const path = `${WS_PATH}?v=${PROTOCOL_VERSION}&platform=${encodeURIComponent(conn.platform)}&deviceId=${encodeURIComponent(conn.deviceId)}`;
  conn.relay = new Relay(cluster.relays, {
    node,
    path,
    userID,
    client: conn.link,
    remote: conn.remote,
    skipFirst: 1, // the owner's hello: the client had this node's
    onEnd: (code, reason) => conn.link.close(code, reason),
  });
  hub.relayed++;
  hub.log.debug({ deviceId: conn.deviceId, userID, node }, 'client relayed to its owner node');
  conn.relay.send(data, isBinary);
}

/** This node stopped owning `shard`: the sockets of its users close (1012), their devices are let go of. */
export function shardLost(hub: ClientHub, shard: number): number {
  const cluster = hub.o.cluster;
  if (!cluster) return 0;
  let n = 0;
  for (const conn of [...hub.conns]) {
    const u = conn.device?.session.userID;
    if (u && cluster.shardOf(u) === shard) {
      moved(hub, conn, `user '${u}' moved to another node (its shard ${shard} changed owner): reconnect`);
      n++;
    }
  }
  for (const d of [...hub.devices.all()]) {
    const u = d.session.userID;
    if (!d.conn && u && cluster.shardOf(u) === shard) hub.devices.abandon(d);
  }
  return n;
}

/** Sends a socket to reconnect elsewhere; its device here is let go of without a word to the port. */
export function moved(hub: ClientHub, conn: Conn, reason: string): void {
  hub.conns.delete(conn);
  if (conn.device) hub.devices.abandon(conn.device);
  conn.relay?.close();
  conn.link.close(MOVED, reason);
}
