// Raw clients for the hardening tests: an in-process server on a simulated clock, a /ws client and a Web
// SDK (/binfo, /info) client that send whatever bytes a test wants, and the admin REST call. Waits are on
// events with a timeout, never sleeps.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import WebSocket from 'ws';
import { ManualClock } from '../../src/server/clock';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server';
import type { Store } from '../../src/store/types';
import { SDK_APP_ID, SECRET, adminQuery, sig } from './proc';

export interface TestServer {
  server: RunningServer;
  url: string;
  ws: string;
  clock: ManualClock;
  rest(command: string, body: unknown): Promise<Record<string, any>>;
  health(): Promise<Record<string, any>>;
  /** Log lines the server wrote (pino objects), for asserting what it said. */
  lines: Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function startInProcess(o: Partial<ServerOptions> & { store?: Store } = {}): Promise<TestServer> {
  const lines: Array<Record<string, any>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const server = await startServer({ host: '127.0.0.1', port: 0, clock: 'simulated', sdkAppId: SDK_APP_ID, secretKey: SECRET, logger, settings: { switches: { userStatus: true } }, ...o });
  const rest = async (command: string, body: unknown) => {
    const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
    const res = await fetch(`${server.url}/v4/${command}?${q}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return (await res.json()) as Record<string, any>;
  };
  return {
    server,
    url: server.url,
    ws: server.url.replace('http', 'ws'),
    clock: server.clock as ManualClock,
    rest,
    health: async () => (await (await fetch(`${server.url}/healthz?${adminQuery()}`)).json()) as Record<string, any>,
    lines,
    close: () => server.close(),
  };
}

export interface RawSocket {
  ws: WebSocket;
  /** Frames received, decoded (COMP-gzip undone, JSON parsed). */
  frames: any[];
  next(match?: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
}

export async function rawSocket(url: string): Promise<RawSocket> {
  const ws = new WebSocket(url);
  const frames: any[] = [];
  const waiters: Array<{ match: (f: any) => boolean; resolve: (f: any) => void }> = [];
  let closedFlag = false;
  ws.on('message', (d: Buffer) => {
    const text = d.length >= 4 && d.subarray(0, 4).toString() === 'COMP' ? gunzipSync(d.subarray(4)).toString('utf8') : d.toString('utf8');
    const f = JSON.parse(text);
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.match(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closedFlag = true;
      resolve({ code, reason: String(reason) });
    }),
  );
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (match: (f: any) => boolean = () => true, timeoutMs = 5000) => {
    const seen = frames.find(match);
    if (seen) {
      frames.splice(frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise<any>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no matching frame in time')), timeoutMs);
      waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(t);
          frames.splice(frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  };
  return { ws, frames, next, closed, isClosed: () => closedFlag };
}

/** A /ws client: `call` sends a request and waits for its reply. */
export async function hubClient(s: TestServer, deviceId = `dev${Math.random().toString(36).slice(2, 12)}`) {
  const raw = await rawSocket(`${s.ws}/ws?v=1&deviceId=${deviceId}`);
  await raw.next((f) => f.t === 'hello');
  let id = 0;
  const call = async (op: string, params?: unknown) => {
    const mine = ++id;
    raw.ws.send(JSON.stringify({ id: mine, op, params }));
    return raw.next((f) => f.t === 'res' && f.id === mine);
  };
  return { ...raw, call, login: (userID: string) => call('login', { userID, userSig: sig(userID) }) };
}

/** A Web SDK wire client on /binfo (binary, `compress=gzip`) or /info (text). */
export async function timClient(s: TestServer, path: '/binfo' | '/info' = '/binfo') {
  const q = path === '/binfo' ? `?sdkappid=${SDK_APP_ID}&platform=7&compress=gzip` : `?sdkappid=${SDK_APP_ID}&platform=7`;
  const raw = await rawSocket(`${s.ws}${path}${q}`);
  let seq = 1000;
  const binary = path === '/binfo';
  /** Sends one frame without waiting for an answer (the SDK's `simplySend`); returns its head.seq. */
  const tell = (servcmd: string, body: unknown = {}, head: Record<string, unknown> = {}) => {
    const mine = ++seq;
    const frame = JSON.stringify({ head: { ver: 'v4', platform: 7, servcmd, seq: mine, ...head }, body });
    raw.ws.send(binary ? Buffer.from(frame) : frame, { binary });
    return mine;
  };
  const request = async (servcmd: string, body: unknown = {}, head: Record<string, unknown> = {}) => {
    const mine = tell(servcmd, body, head);
    return raw.next((f) => f.head?.servcmd === servcmd && f.head?.seq === mine);
  };
  return { ...raw, request, tell, login: (userID: string) => request('im_open_status.wslogin', { State: 'Online' }, { identifier: userID, usersig: sig(userID) }) };
}

/** The user's presence as the admin API reports it. */
export async function presence(s: TestServer, userID: string): Promise<string> {
  const r = await s.rest('openim/query_online_status', { To_Account: [userID] });
  return r.QueryResult?.[0]?.Status as string;
}

/**
 * A fresh tmpfs of `sizeMb`, for a real full (or read-only) filesystem; null with the reason when this
 * process may not mount (not root, or a container without the capability): the caller skips, saying so.
 */
export function tryMountTmpfs(sizeMb: number): { dir: string; unmount(): void } | { dir: null; why: string } {
  if (process.getuid?.() !== 0) return { dir: null, why: 'mounting a tmpfs needs root (CI runs as root)' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'se-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { dir: null, why: `mount -t tmpfs failed: ${(e as Error).message.split('\n')[0]}` };
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
