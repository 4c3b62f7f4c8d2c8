// One Web SDK socket: its uplink (request budget, frame bounds, the command table, replies before the pushes
// they caused), its quiet and heard link reports (DEV-2), and its downlink through the shared socket link.
import type { WebSocket } from 'ws';
import type { StatusError } from '../../errors';
import type { ClientEvent } from '../../events';
import { MAX_INFLATE_RATIO, WireError, encodeFrame, encodeFrameText, errorBody, isCompressed, parseFrame, uplinkText, type WireFrame, type WireHead } from '../../protocol/tim/wire';
import { isEchoableSeq, nestingOver, MAX_NESTING_DEPTH } from '../link/bounds';
import type { LinkHooks, SocketLink } from '../link/lifecycle';
import { RequestBudget } from '../requestBudget';
import { CMD } from '../../protocol/tim/wire';
import { routeLogin, type FrontCluster } from '../cluster/front';
import { CLOSE_MOVED, Relay } from '../cluster/relay';
import { lostSessionReason } from '../cluster/sessionLost';
import { answers, dispatch, dispatchAsync, failure } from './commands';
import type { ConnInfo, DeviceSocket, GatewayContext, Key } from './device';
import { EncodedBody, deliver } from './downlink';
import { loginUser, logout, release } from './login';
import { kickForLooping, nextCuts } from './overBudget';

export const WS_CLOSE_TOO_BIG = 1009;
export const WS_CLOSE_REPLACED = 4001;
export const WS_CLOSE_SHUTDOWN = 1001;
export const WS_CLOSE_NO_LOGIN = 4003;
export const WS_CLOSE_OVER_BUDGET = 1008;
/** Unacknowledged status pushes a socket may ack outside its request budget (more are charged as requests). */
export const ACK_CREDIT_MAX = 10_000;
/**
 * An ack is read outside the budget only if it is a plain frame of at most this: the SDK's are ~300 bytes
 * (its head and the SessionData it echoes); anything larger is charged as a request, by its size.
 */
export const ACK_MAX_BYTES = 4096;
/** A refused frame is read (to answer it with 2996) only if it is a plain frame of at most this; a larger one is dropped. */
const REFUSED_READ_MAX_BYTES = 4096;

/** Whether a decoded frame may be read: nested within the limit, a seq a reply can echo, a servcmd of at most 128 characters. */
const inBounds = (frame: WireFrame): boolean =>
  nestingOver(frame, MAX_NESTING_DEPTH) === null && (frame.head.seq === undefined || isEchoableSeq(frame.head.seq)) && frame.head.servcmd.length <= 128;

/** One SDK socket. It holds at most one device (one DeviceHandle) at a time. Its link's hooks are its methods. */
export class Connection implements DeviceSocket, LinkHooks {
  device: Key | null = null;
  readonly link: SocketLink;
  private silent = false;
  /** While a request is being handled, deliveries wait so that the reply goes first. */
  private held: Array<{ servcmd: string; body: unknown }> | null = null;
  private pushSeq = 0;
  /** Whatever the client sends, the work it can cause is bounded. */
  private readonly budget: RequestBudget;
  /**
   * Status pushes sent and not yet acknowledged, up to ACK_CREDIT_MAX: an ack of one of them is not a request
   * (the SDK sends one per push, so a watcher of busy users would otherwise spend its request budget on them,
   * be refused and cut), and acks beyond them are charged as any frame.
   */
  private ackCredit = 0;

  constructor(
    private readonly gw: GatewayContext,
    readonly ws: WebSocket,
    readonly info: ConnInfo,
  ) {
    this.budget = new RequestBudget(gw.requestBudget, gw.now);
    // The link's login deadline closes a socket that holds no device (never logged in, or logged out)
    // whatever it sends; its quiet check makes the device's link silent (DEV-2).
    this.link = gw.links.open(ws, info.remote ?? '?', this);
  }

  /**
   * For the link's login deadline. A socket quiet since its device timed out is a peer that vanished
   * (half-open TCP): not logged in any more, so the deadline closes it. One only quiet has spoken within
   * the device's timeout (wshello: 30 s).
   */
  isAuthenticated(): boolean {
    return this.relay !== null || (this.device !== null && !(this.silent && !this.device.data.session?.connected));
  }

  // -------------------------------------------------------------------------------------------------------
  // Uplink.

  /** @internal (the link's hook) */
  onFrame(data: Buffer, isBinary: boolean): void {
    const ack = this.ackCredit > 0 ? this.creditedAck(data, isBinary) : null;
    if (ack) return this.handle(ack, data, isBinary);
    // Charged by its size as received; a compressed frame owes the rest once it is inflated (below).
    const verdict = this.budget.take(data.length);
    if (verdict.kind === 'close') {
      if (this.link.closing) return; // closed already; frames in flight are dropped
      return this.cutOverBudget(verdict.reason);
    }
    const loggedIn = this.device !== null || this.relay !== null;
    const limit = loggedIn ? this.gw.maxFrameBytes : this.gw.maxPreLoginFrameBytes;
    if (data.length > limit) return this.tooLarge(data.length, limit, loggedIn);
    if (verdict.kind === 'refuse') return this.refuse(data, isBinary, verdict);
    let frame: WireFrame;
    try {
      const text = uplinkText(isBinary ? data : data.toString('utf8'), limit);
      if (text.length > data.length) this.budget.owe(data.length, text.length);
      frame = parseFrame(text, data.length);
    } catch (e) {
      // A COMP frame is as large as what it inflates to (a 1 KB frame inflating to 1 MiB before login).
      if (e instanceof WireError && e.inflatesOver !== undefined) {
        if (e.limitName === 'maxInflateRatio') return this.tooLarge(`over ${e.inflatesOver} inflated`, e.inflatesOver, loggedIn, 'maxInflateRatio');
        return this.tooLarge(`over ${limit} inflated`, limit, loggedIn);
      }
      // Nothing to answer: without a servcmd and seq the SDK could not match a reply.
      this.dropped('bad frame dropped', { err: e instanceof WireError ? e.message : e });
      return;
    }
    // The reply echoes head.seq, and handlers read head and body: a frame nested past the limit, or whose
    // seq is not a number or a short string, is dropped before anything reads it (nothing could answer it).
    if (!inBounds(frame)) {
      this.dropped('frame out of bounds dropped (nesting, head.seq or head.servcmd)', { limitName: 'maxNestingDepth', limit: MAX_NESTING_DEPTH });
      return;
    }
    this.handle(frame, data, isBinary);
  }

  /** A frame within bounds and within the budget: handled now, or queued behind the one running (cluster mode). */
  private handle(frame: WireFrame, data: Buffer, isBinary: boolean): void {
    if (this.gw.asyncCalls) return this.enqueue(frame, data, isBinary);
    this.held = [];
    this.heard();
    let body: unknown;
    try {
      body = dispatch(this.gw, this, frame);
    } catch (e) {
      body = failure(this.gw, frame.head, e);
    }
    const held = this.held;
    this.held = null;
    if (body !== undefined && answers(frame.head.servcmd)) this.send({ head: { servcmd: frame.head.servcmd, seq: frame.head.seq }, body });
    for (const p of held) this.push(p.servcmd, p.body);
  }

  /** The frame, when it is an ack of a status push this socket was sent (decoded and within bounds); else null. */
  private creditedAck(data: Buffer, isBinary: boolean): WireFrame | null {
    // A byte search first: any other frame costs one indexOf here and is charged and decoded as before.
    if (this.device === null || data.length > ACK_MAX_BYTES || (isBinary && isCompressed(data)) || data.indexOf(CMD.PUSH_ACK) < 0) return null;
    let frame: WireFrame;
    try {
      frame = parseFrame(data.toString('utf8'), data.length);
    } catch {
      return null;
    }
    if (frame.head.servcmd !== CMD.PUSH_ACK || !inBounds(frame)) return null;
    this.ackCredit--;
    return frame;
  }

  private tooLarge(bytes: number | string, limit: number, loggedIn: boolean, ratio?: 'maxInflateRatio'): void {
    const limitName = ratio ?? (loggedIn ? 'maxFrameBytes' : 'maxPreLoginFrameBytes');
    this.gw.log.warn({ bytes, limit, limitName, remote: this.info.remote }, 'tim gateway: frame too large, closing');
    const why = ratio ? `compressed frame inflating over ${MAX_INFLATE_RATIO} times its size (maxInflateRatio, ${limit} bytes)` : `frame over ${limitName} (${limit} bytes)`;
    this.link.close(WS_CLOSE_TOO_BIG, why);
  }

  /** Frames dropped unanswered so far: the first is a warning, the rest debug lines (any socket can send them). */
  private droppedFrames = 0;

  private dropped(what: string, detail: Record<string, unknown>): void {
    const first = ++this.droppedFrames === 1;
    const line = { ...detail, remote: this.info.remote, dropped: this.droppedFrames };
    if (first) this.gw.log.warn(line, `tim gateway: ${what} (more on this socket are logged at debug)`);
    else this.gw.log.debug(line, `tim gateway: ${what}`);
  }

  // -------------------------------------------------------------------------------------------------------
  // The asynchronous path (cluster mode): one frame at a time, in order; pushes wait behind the reply of
  // the frame being handled, as on the synchronous path. A login for a user another node owns turns the
  // socket into a relay to that node.

  private readonly queue: Array<{ frame: WireFrame; data: Buffer; isBinary: boolean }> = [];
  private running = false;
  private relay: Relay | null = null;

  get relaying(): boolean {
    return this.relay !== null;
  }

  /** Where the relay goes, for the gateway's owner check (null: not relaying). */
  get relayTarget(): { node: string; userID: string } | null {
    return this.relay ? { node: this.relay.node, userID: this.relay.userID } : null;
  }

  private enqueue(frame: WireFrame, data: Buffer, isBinary: boolean): void {
    this.queue.push({ frame, data, isBinary });
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.link.closing && !this.gw.closed) {
        const f = this.queue.shift()!;
        try {
          await this.handleAsync(f.frame, f.data, f.isBinary);
        } catch (err) {
          this.gw.log.error({ err }, 'tim gateway: request failed');
        }
      }
      if (this.link.closing) this.queue.length = 0;
    } finally {
      this.running = false;
    }
  }

  private async handleAsync(frame: WireFrame, data: Buffer, isBinary: boolean): Promise<void> {
    if (this.relay) return this.relay.send(data, isBinary);
    const cluster = this.gw.cluster;
    this.held = [];
    let body: unknown;
    try {
      await this.heardAsync();
      if (cluster && frame.head.servcmd === CMD.LOGIN && !this.device) {
        const userID = loginUser(this.gw, this, frame.head);
        const route = routeLogin(cluster, userID, this.info.viaRelay === true);
        if (route.kind === 'relay') {
          this.held = null;
          return this.startRelay(cluster, route.node, userID, data, isBinary);
        }
        if (route.kind === 'refuse') {
          this.send({ head: { servcmd: frame.head.servcmd, seq: frame.head.seq }, body: failure(this.gw, frame.head, route.error) });
          this.link.close(CLOSE_MOVED, route.error.message);
          return;
        }
      }
      body = await dispatchAsync(this.gw, this, frame);
    } catch (e) {
      // Sent to reconnect while the call waited (its shard moved or was rebuilt): the close says so, no answer.
      if (this.link.closing) return;
      const lost = lostSessionReason(e, this.device?.data.session?.userID);
      if (lost !== null) return this.gw.letGo(this, lost);
      body = failure(this.gw, frame.head, e);
    } finally {
      const held = this.held ?? [];
      this.held = null;
      if (body !== undefined && answers(frame.head.servcmd)) this.send({ head: { servcmd: frame.head.servcmd, seq: frame.head.seq }, body });
      for (const p of held) this.push(p.servcmd, p.body);
    }
  }

  private startRelay(cluster: FrontCluster, node: string, userID: string, data: Buffer, isBinary: boolean): void {
    this.relay = new Relay(cluster.relays, {
      node,
      path: this.info.path ?? (this.info.binary ? '/binfo' : '/info'),
      userID,
      client: this.link,
      remote: this.info.remote ?? '?',
      skipFirst: 0,
      onEnd: (code, reason) => this.link.close(code, reason),
    });
    this.gw.relayed++;
    this.gw.log.debug({ userID, node }, 'tim gateway: SDK relayed to its owner node');
    this.relay.send(data, isBinary);
  }

  /** heard(), with the comeback prepared first (cluster mode). */
  private async heardAsync(): Promise<void> {
    const s = this.device?.data.session;
    if (this.gw.prepare && s?.userID && (this.silent || !s.loggedIn || !s.connected)) {
      try {
        await this.gw.prepare('reconnect', s, undefined);
      } catch (e) {
        this.gw.log.warn({ err: e }, 'tim gateway: could not restore a quiet device');
        return;
      }
    }
    this.heard();
  }

  /** Kept on over the budget: cut (1008); the device's third cut in the window kicks it out (overBudget.ts). */
  private cutOverBudget(why: string): void {
    const key = this.device;
    const counted = key ? nextCuts(key.data.cuts, this.gw.core.clock.now()) : null;
    if (!key || !counted?.kick) {
      if (key && counted) key.data.cuts = counted.cuts;
      this.gw.log.warn({ remote: this.info.remote, userID: key?.userID, reason: why }, 'tim gateway: client kept on over its request budget, closing');
      this.link.close(WS_CLOSE_OVER_BUDGET, 'request budget exceeded');
      return;
    }
    const kick = kickForLooping();
    this.gw.log.warn({ remote: this.info.remote, userID: key.userID, deviceId: key.deviceId, cuts: counted.cuts.length }, 'tim gateway: client kept on over its request budget connection after connection, kicking it out');
    this.send({ head: { servcmd: CMD.PUSH_FORCE_OFFLINE, seq: ++this.pushSeq }, body: kick.push });
    try {
      logout(this.gw, this); // logged out in the engine, its session key revoked
    } catch (e) {
      // The store refused the logout: the key goes anyway, and the close drops the device's link (DEV-2/3).
      this.gw.log.warn({ err: e, userID: key.userID }, 'tim gateway: could not log a kicked device out; its link closes');
      this.gw.keys.revoke(key);
    }
    this.link.close(WS_CLOSE_OVER_BUDGET, kick.reason);
  }

  /** Over the budget: answered unserved (the SDK rejects that call with 2996), logged once per episode. */
  private refuse(data: Buffer, isBinary: boolean, verdict: { error: StatusError; first: boolean }): void {
    if (verdict.first) this.gw.log.warn({ remote: this.info.remote, userID: this.device?.userID, limits: this.gw.requestBudget }, 'tim gateway: client over its request budget, refusing');
    // Answering costs a parse: only a small plain frame gets one (an SDK's calls are); any other is dropped.
    if (data.length > REFUSED_READ_MAX_BYTES || (isBinary && isCompressed(data))) return;
    let head: WireHead;
    try {
      const frame = parseFrame(data.toString('utf8'), data.length);
      if (nestingOver(frame, MAX_NESTING_DEPTH) !== null) return; // dropped, as any over-deep frame is
      head = frame.head;
    } catch {
      return; // nothing to answer, and no line per frame: the episode's line above says it
    }
    if (typeof head.servcmd !== 'string' || !isEchoableSeq(head.seq) || !answers(head.servcmd)) return;
    this.send({ head: { servcmd: head.servcmd, seq: head.seq }, body: errorBody(verdict.error.code, verdict.error.message) });
  }

  /** Any uplink frame shows the link is alive (DEV-2). A device the engine dropped meanwhile comes back. */
  private heard(): void {
    const s = this.device?.data.session;
    if (s?.userID && (this.silent || !s.loggedIn || !s.connected)) {
      // Back from a silence, or the engine gave up on it (heartbeat timeout) while the SDK was only slow:
      // restore it as its relogin would, with what it missed (EXT-2).
      try {
        this.gw.core.reconnect(s);
      } catch (e) {
        this.gw.log.warn({ err: e }, 'tim gateway: could not restore a quiet device');
        return; // still silent: the next frame tries again
      }
    }
    this.silent = false;
  }

  /** The socket went quiet: the device's link is silent. A throw (the store) is retried by the link while quiet. */
  /** @internal (the link's hook) */
  onQuiet(): void {
    const s = this.device?.data.session;
    if (!s) return;
    this.gw.core.linkEvent(s, { type: 'LINK.SILENT' });
    this.silent = true;
  }

  // -------------------------------------------------------------------------------------------------------
  // Downlink.

  deliver(event: ClientEvent, seq: number): void {
    deliver(this.gw, this, event, seq);
  }

  push(servcmd: string, body: unknown): void {
    if (this.held) {
      this.held.push({ servcmd, body });
      return;
    }
    const seq = ++this.pushSeq;
    if (servcmd === CMD.PUSH_MSG && this.ackCredit < ACK_CREDIT_MAX) this.ackCredit++;
    if (body instanceof EncodedBody) this.link.send(() => encodeFrameText(`{"head":{"servcmd":${JSON.stringify(servcmd)},"seq":${seq}},"body":${body.json}}`, this.info), this.info.binary);
    else this.send({ head: { servcmd, seq }, body });
  }

  /** Through the link: within the send budgets (a slow SDK is cut, then reconnects and resumes), never throwing. */
  private send(frame: unknown): void {
    this.link.send(() => encodeFrame(frame, this.info), this.info.binary);
  }

  // -------------------------------------------------------------------------------------------------------
  // Lifecycle (the rest is the link's).

  /** @internal (the link's hook) */
  onClose(): void {
    this.relay?.close();
    this.gw.forget(this);
    if (this.gw.closed) return; // a shutdown is not a drop
    release(this.gw, this);
  }
}
