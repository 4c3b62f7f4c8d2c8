// The relay's own bounds and endings (src/server/cluster/relay.ts): frames held while it opens are capped,
// a node with no address or one that refuses the relay ends it with 1012 and a reason for the client, and
// an owner that goes away mid-stream (1006) becomes 1012 too, so that the client reconnects.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Relay, type RelayContext } from '../../../src/server/cluster/relay';
import type { SocketLink } from '../../../src/server/link/lifecycle';

const silent = { debug() {}, warn() {} };
const context = (lookup: RelayContext['lookup'], extra: Partial<RelayContext> = {}): RelayContext => ({
  lookup,
  token: () => 'v1.a.0.x',
  log: silent,
  maxPayloadBytes: 1 << 20,
  maxBufferedBytes: 1 << 20,
  maxPendingFrames: 4,
  connectTimeoutMs: 2000,
  ...extra,
});
const client = () => {
  const sent: string[] = [];
  return { sent, link: { send: (build: () => string | Buffer) => (sent.push(String(build())), true) } as unknown as SocketLink };
};
const ended = (make: (onEnd: (code: number, reason: string) => void) => Relay) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    make((code, reason) => resolve({ code, reason }));
  });

let server: Server | null = null;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
});
const listen = async (s: Server) => {
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `ws://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

describe('relay bounds and endings', () => {
  it('more frames than maxPendingFrames before the relay opens end it (1008)', async () => {
    const c = client();
    const r = await ended((onEnd) => {
      const relay = new Relay(context(() => new Promise(() => {})), { node: 'b', path: '/ws', userID: 'u', client: c.link, remote: '?', skipFirst: 0, onEnd });
      for (let i = 0; i < 5; i++) relay.send(Buffer.from(`{"id":${i}}`), false);
      return relay;
    });
    expect(r.code).toBe(1008);
    expect(r.reason).toMatch(/too many frames \(4\) before the relay to b opened/);
  });

  it('a node with no registered address, or one that refuses the relay, ends it with 1012 and why', async () => {
    const c = client();
    const none = await ended((onEnd) => new Relay(context(async () => null), { node: 'b', path: '/ws', userID: 'u', client: c.link, remote: '?', skipFirst: 0, onEnd }));
    expect(none).toMatchObject({ code: 1012, reason: 'node b has no registered address' });
    const refusing = createServer();
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'));
    const url = await listen(refusing);
    const r = await ended((onEnd) => new Relay(context(async () => url), { node: 'b', path: '/ws', userID: 'u', client: c.link, remote: '?', skipFirst: 0, onEnd }));
    expect(r).toMatchObject({ code: 1012, reason: 'node b refused the relay (HTTP 401)' });
  });

  it('pipes frames in order both ways, drops the owner\'s first frames as told, and turns an owner that vanishes into 1012', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const heard: string[] = [];
    let headers: Record<string, unknown> = {};
    wss.on('connection', (ws, req) => {
      headers = req.headers;
      ws.send('hello-from-owner');
      ws.on('message', (d) => {
        heard.push(String(d));
        ws.send(`re:${String(d)}`);
        if (heard.length === 3) ws.terminate(); // the owner node dies
      });
    });
    const url = await listen(http);
    const c = client();
    const r = await ended((onEnd) => {
      const relay = new Relay(context(async () => url), { node: 'b', path: '/ws?v=1', userID: 'u', client: c.link, remote: '1.2.3.4:5', skipFirst: 1, onEnd });
      for (const f of ['1', '2', '3']) relay.send(Buffer.from(f), false);
      return relay;
    });
    expect(heard).toEqual(['1', '2', '3']);
    expect(c.sent.slice(0, 2)).toEqual(['re:1', 're:2']);
    expect(c.sent).not.toContain('hello-from-owner');
    expect(headers['x-status-engine-relay']).toBe('v1.a.0.x');
    expect(headers['x-status-engine-client']).toBe('1.2.3.4:5');
    expect(r.code).toBe(1012);
    expect(r.reason).toMatch(/the owner node b went away \(1006/);
    wss.close();
  });
});
