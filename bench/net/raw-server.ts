// Part 3's baseline server: a bare `ws` server that speaks just enough of the client protocol
// (docs/protocol.md) for the load generator: hello, login, subscribeUserStatus, setSelfStatus, ping. A
// setSelfStatus becomes one push frame, serialized once, written to the caller's and each subscriber's
// socket, then the reply: the same bytes to the same sockets as `status-engine serve`, with no engine.
// Prints `listening on http://HOST:PORT` like the real server.
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws', perMessageDeflate: false, maxPayload: 1024 * 1024 });
const socketsOf = new Map<string, Set<WebSocket>>();
const subscribers = new Map<string, Set<string>>();
const version = new Map<string, number>();
let seq = 0;

const reply = (ws: WebSocket, id: number, data: unknown) => ws.send(JSON.stringify({ t: 'res', id, ok: true, data, seq }));

wss.on('connection', (ws, req) => {
  const deviceId = new URL(req.url ?? '/', 'http://x').searchParams.get('deviceId') ?? 'anon';
  let me: string | null = null;
  ws.send(JSON.stringify({ t: 'hello', v: 1, deviceId, seq, heartbeatMs: 10_000, serverTime: Date.now(), sdkAppId: 1 }));
  ws.on('message', (raw) => {
    const f = JSON.parse(String(raw)) as { id: number; op: string; params?: Record<string, unknown> };
    switch (f.op) {
      case 'login': {
        me = String(f.params!.userID);
        let set = socketsOf.get(me);
        if (!set) socketsOf.set(me, (set = new Set()));
        set.add(ws);
        const v = (version.get(me) ?? 0) + 1;
        version.set(me, v);
        reply(ws, f.id, { repeatLogin: false, userID: me, status: { userID: me, statusType: 1, customStatus: '', version: v, reason: 'login' } });
        return;
      }
      case 'subscribeUserStatus': {
        for (const t of f.params!.userIDList as string[]) {
          let set = subscribers.get(t);
          if (!set) subscribers.set(t, (set = new Set()));
          set.add(me!);
        }
        reply(ws, f.id, { failureUserList: [] });
        return;
      }
      case 'setSelfStatus': {
        const customStatus = String(f.params!.customStatus);
        const v = (version.get(me!) ?? 0) + 1;
        version.set(me!, v);
        const status = { userID: me!, statusType: 1, customStatus, version: v, reason: 'custom_status_set' };
        const frame = JSON.stringify({ t: 'push', seq: ++seq, event: { name: 'onUserStatusUpdated', data: [status] } });
        for (const s of socketsOf.get(me!) ?? []) s.send(frame);
        for (const u of subscribers.get(me!) ?? []) for (const s of socketsOf.get(u) ?? []) s.send(frame);
        reply(ws, f.id, status);
        return;
      }
      default:
        reply(ws, f.id, {});
    }
  });
  ws.on('close', () => {
    if (me) socketsOf.get(me)?.delete(ws);
  });
});
wss.on('listening', () => {
  const a = wss.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${a.port}\n`);
});
const stop = () => wss.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
