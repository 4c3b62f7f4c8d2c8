// The engine and the remote client run in a browser: the package's entry is bundled for the browser with
// esbuild (no Node built-ins, `ws` mapped to its stub) and run in headless Chromium (Debian's, through
// playwright-core). In the page, an in-process engine with two clients exchanges a status, and two remote
// clients do the same through a real server, over the browser's own WebSocket, from an allowed origin.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/server';
import { genUserSig } from '../../src/server/usersig';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
const ROOT = resolve(__dirname, '../..');
const SECRET = 'browser-test-secret-0123456789abcdef';
const APP = 1400000077;

const ENTRY = `
import { createEngine, createClient, EVENT, TYPES } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
window.run = async (url, sigs) => {
  const out = {};
  // In-process: the engine itself in the page.
  const engine = createEngine({ switches: { userStatus: true } });
  await engine.registerUsers(['alice', 'bob']);
  const a = createClient({ engine });
  const b = createClient({ engine, platform: 'ios' });
  const heard = [];
  b.on(EVENT.USER_STATUS_UPDATED, ({ data }) => heard.push(...data));
  await a.login({ userID: 'alice' });
  await b.login({ userID: 'bob' });
  await b.subscribeUserStatus({ userIDList: ['alice'] });
  await a.setSelfStatus({ customStatus: 'in the page' });
  out.local = heard.map((s) => s.customStatus);
  out.deviceId = a.deviceId;
  await engine.close();
  // Remote: the browser's WebSocket to the real server.
  const ra = createClient({ url, reconnect: false });
  const rb = createClient({ url, reconnect: false, platform: 'android' });
  const rheard = [];
  const got = new Promise((resolve) => rb.on(EVENT.USER_STATUS_UPDATED, ({ data }) => {
    rheard.push(...data);
    if (data.some((s) => s.customStatus === 'over the wire')) resolve();
  }));
  await ra.login({ userID: 'ra', userSig: sigs.ra });
  await rb.login({ userID: 'rb', userSig: sigs.rb });
  await rb.subscribeUserStatus({ userIDList: ['ra'] });
  await ra.setSelfStatus({ customStatus: 'over the wire' });
  await got;
  out.remote = rheard.filter((s) => s.userID === 'ra').map((s) => [s.statusType, s.customStatus]);
  out.online = TYPES.USER_STATUS_ONLINE;
  await ra.logout();
  await rb.destroy();
  return out;
};
`;

let site: Server;
let siteUrl: string;
let server: RunningServer;
let browser: Browser;
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'se-browser-'));
  const r = await build({ stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' }, bundle: true, platform: 'browser', format: 'iife', write: false, logLevel: 'silent' });
  bundle = r.outputFiles[0]!.text;
  site = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(bundle);
    } else {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><meta charset="utf-8"><script src="/app.js"></script>');
    }
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // The page's origin is the only one the server lets open a WebSocket.
  server = await startServer({ port: 0, sdkAppId: APP, secretKey: SECRET, logger: pino({ level: 'silent' }), settings: { switches: { userStatus: true } }, allowedOrigins: [siteUrl] });
  server.core.registerUsers(['ra', 'rb']);
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise<void>((r) => (site ? site.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the browser bundle', () => {
  it('has no Node built-ins: it bundles for the browser as is', () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });

  it.skipIf(!hasChromium)('CL-1 runs the engine and the remote client in headless Chromium', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(siteUrl);
    const sigs = { ra: genUserSig({ sdkAppId: APP, secretKey: SECRET, identifier: 'ra', expireSeconds: 600 }), rb: genUserSig({ sdkAppId: APP, secretKey: SECRET, identifier: 'rb', expireSeconds: 600 }) };
    const out = (await page.evaluate(([url, s]) => (globalThis as any).run(url, s), [server.url, sigs] as const)) as Record<string, any>;
    expect(errors).toEqual([]);
    expect(out.local).toEqual(['', 'in the page']);
    expect(out.deviceId).toMatch(/^dev-[0-9a-f-]{36}$/);
    expect(out.remote).toContainEqual([out.online, 'over the wire']);
    await page.close();
  }, 60_000);
});
