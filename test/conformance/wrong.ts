// Deliberately wrong servers for the conformance command to catch: a proxy in front of the real `serve`
// that changes one thing on the way (what a buggy implementation would do differently), on 127.0.0.1.
// HTTP requests are forwarded (their JSON body rewritten where a rule says), WebSocket frames are piped
// both ways (the server's frames rewritten where a rule says).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

type Json = any;

export interface Rules {
  /** Rewrites the body of POST /v4/<command>; return a reply object instead to answer it here. */
  rest?(command: string, body: Json): { body: Json } | { reply: Json };
  /** Rewrites a frame from the server to a client (parsed JSON). */
  toClient?(frame: Json): Json;
}

export interface Proxy {
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startProxy(upstream: string, rules: Rules): Promise<Proxy> {
  const up = new URL(upstream);
  const http = createServer(async (req, res) => {
    const text = await readBody(req);
    const command = /^\/v4\/([^?]+)/.exec(req.url ?? '')?.[1];
    let body = text;
    if (command && rules.rest && text) {
      const r = rules.rest(command, JSON.parse(text));
      if ('reply' in r) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(r.reply));
        return;
      }
      body = JSON.stringify(r.body);
    }
    const answer = await fetch(new URL(req.url ?? '/', up), { method: req.method, body: req.method === 'GET' ? undefined : body, headers: { 'content-type': 'application/json' } });
    res.statusCode = answer.status;
    res.setHeader('content-type', answer.headers.get('content-type') ?? 'application/json');
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (client) => {
      const server = new WebSocket(new URL(req.url ?? '/', upstream.replace(/^http/, 'ws')));
      sockets.add(client).add(server);
      const queued: Array<[Buffer, boolean]> = [];
      client.on('message', (data: Buffer, binary: boolean) => {
        if (server.readyState === WebSocket.OPEN) server.send(data, { binary });
        else queued.push([data, binary]);
      });
      server.on('open', () => {
        for (const [d, b] of queued.splice(0)) server.send(d, { binary: b });
      });
      server.on('message', (data: Buffer, binary: boolean) => {
        if (binary || !rules.toClient) return void client.send(data, { binary });
        client.send(JSON.stringify(rules.toClient(JSON.parse(data.toString('utf8')))));
      });
      const end = () => {
        for (const ws of [client, server]) if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        sockets.delete(client);
        sockets.delete(server);
      };
      client.on('close', end).on('error', end);
      server.on('close', end).on('error', end);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Every `statusType: 3` (UNLOGINED) in a value, as 2 (OFFLINE). */
function unloginedAsOffline(v: Json): Json {
  if (Array.isArray(v)) return v.map(unloginedAsOffline);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'statusType' && x === 3 ? 2 : unloginedAsOffline(x)]));
}

/** The wrong implementations, each a set of rules over a correct server. */
export const WRONG: Record<'unloginedAsOffline' | 'noFriendNotifications' | 'rateLimitOffByOne', Rules> = {
  // Reports a user with no device logged in as OFFLINE, to its clients.
  unloginedAsOffline: { toClient: unloginedAsOffline },
  // Never notifies friends: friendStatusNotify is never turned on, whatever the console asks for.
  noFriendNotifications: {
    rest: (command, body) =>
      command === 'im_open_status/config' && body?.Switches?.FriendStatusNotify !== undefined
        ? { body: { ...body, Switches: { ...body.Switches, FriendStatusNotify: 'off' } } }
        : { body },
  },
  // Lets one call more through than the rate limit says.
  rateLimitOffByOne: {
    rest: (command, body) =>
      command === 'im_open_status/config' && typeof body?.Limits?.rateLimit?.requests === 'number'
        ? { body: { ...body, Limits: { ...body.Limits, rateLimit: { ...body.Limits.rateLimit, requests: body.Limits.rateLimit.requests + 1 } } } }
        : { body },
  },
};

/** A server without the test hooks (time control, server-side drop): what a production server looks like. */
export const NO_HOOKS: Rules = {
  rest: (command, body) => (command.startsWith('test/') ? { reply: { ActionStatus: 'FAIL', ErrorCode: 60003, ErrorInfo: `unknown command /v4/${command}` } } : { body }),
};
