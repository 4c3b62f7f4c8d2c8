// The real Web SDK in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// loads the SDK's browser build from a tiny local page and talks to the gateway. In a browser the SDK runs its
// socket in a Blob Web Worker, which Node cannot show. Skips only off CI when Chromium is missing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ErrorCode, TYPES } from '../../src/index';
import { SDK_APP_ID, SDK_PATH, sdkWorld, testUserSig, type SdkWorld } from './harness';

export const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)`);
}
if (!hasChromium) {
  console.warn(`[test/sdk/browser] SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium); it runs in CI.`);
}

/** Chromium as the brief has it: headless, no sandbox (root in a container), and nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Belt and braces: no name resolves but the loopback, so nothing can leave 127.0.0.1.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>status-engine: tim-js-sdk in a browser</title></head>
<body><h1>tim-js-sdk against status-engine</h1><pre id="log"></pre>
<script src="/tim-js.js"></script>
<script>
  window.heard = [];
  window.kicked = [];
  window.say = (line) => { document.getElementById('log').textContent += line + '\\n'; };
  window.start = (proxyServer, SDKAppID) => {
    window.tim = TIM.create({ SDKAppID, proxyServer });
    tim.setLogLevel(4);
    tim.on(TIM.EVENT.USER_STATUS_UPDATED, (e) => { heard.push(...e.data); say('status ' + JSON.stringify(e.data)); });
    tim.on(TIM.EVENT.KICKED_OUT, (e) => kicked.push(e.data));
    window.ready = new Promise((resolve) => tim.on(TIM.EVENT.SDK_READY, () => { say('ready'); resolve(true); }));
  };
  // Each call resolves with {ok, data} or {ok: false, code, message}: the SDK's own results, serialisable.
  window.call = async (method, arg) => {
    try { const r = await tim[method](arg); return { ok: true, data: r.data }; }
    catch (e) { return { ok: false, code: e.code, message: e.message }; }
  };
</script></body></html>`;

/** A tiny local site: the page and the SDK's browser build (the UMD file that sets window.TIM). */
async function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const sdk = readFileSync(SDK_PATH);
  const http: Server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    } else if (req.url === '/tim-js.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(sdk);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

describe.skipIf(!hasChromium)('the Web SDK in headless Chromium', () => {
  let world: SdkWorld;
  let site: Awaited<ReturnType<typeof startSite>>;
  let profile: string;
  let context: BrowserContext;
  const outside: string[] = [];

  beforeAll(async () => {
    world = await sdkWorld({ simulated: false });
    site = await startSite();
    profile = mkdtempSync(join(tmpdir(), 'status-engine-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    // Any request for anything but the loopback is refused and remembered (the SDK may try its vendor's log upload).
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      if (host === '127.0.0.1') return route.continue();
      outside.push(route.request().url());
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await site?.close();
    await world?.close();
  });

  const openPage = async (): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(site.url);
    await page.evaluate(([proxy, appId]) => (globalThis as any).start(proxy, appId), [world.server.url, SDK_APP_ID] as const);
    return page;
  };
  const call = (page: Page, method: string, arg?: unknown) =>
    page.evaluate(([m, a]) => (globalThis as any).call(m, a), [method, arg] as const) as Promise<{ ok: boolean; data?: any; code?: number; message?: string }>;

  it('logs in with a UserSig (a bad one is refused), follows a subscription, sets its status, and obeys the edition switch at once', async () => {
    const page = await openPage();
    const bad = await call(page, 'login', { userID: 'alice', userSig: 'forged' });
    expect(bad).toMatchObject({ ok: false, code: 70003 });

    expect((await call(page, 'login', { userID: 'alice', userSig: testUserSig('alice') })).ok).toBe(true);
    await page.waitForFunction(() => (globalThis as any).ready, undefined, { timeout: 15_000 });
    expect((await world.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES.USER_STATUS_ONLINE);

    // SUB-1 with bob as a Node SDK: his change reaches the browser.
    expect((await call(page, 'subscribeUserStatus', { userIDList: ['bob'] })).data).toEqual({ failureUserList: [] });
    const bob = await world.online('bob');
    await bob.tim.setSelfStatus({ customStatus: 'hello browser ✓' });
    await page.waitForFunction(() => (globalThis as any).heard.some((s: any) => s.userID === 'bob' && s.customStatus === 'hello browser ✓'), undefined, { timeout: 10_000 });

    // CS-1 from the browser, seen by the engine and by bob's query.
    expect((await call(page, 'setSelfStatus', { customStatus: 'from chromium' })).data).toEqual({ userID: 'alice', statusType: 1, customStatus: 'from chromium' });
    expect((await world.server.engine.queryStatus(['alice']))[0]!.customStatus).toBe('from chromium');

    // GATE-2: the edition goes off on the server; the browser's SDK refuses by itself, no reload.
    await world.server.engine.configure({ edition: 'pro' });
    await page.waitForFunction(
      async () => ((await (globalThis as any).call('getUserStatus', { userIDList: ['bob'] })) as { code?: number }).code === 3122,
      undefined,
      { timeout: 10_000, polling: 100 },
    );
    expect((await call(page, 'subscribeUserStatus', { userIDList: ['carol'] })).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    await world.server.engine.configure({ edition: 'ultimate', switches: { userStatus: false } });
    await page.waitForFunction(
      async () => ((await (globalThis as any).call('getUserStatus', { userIDList: ['bob'] })) as { code?: number }).code === 72001,
      undefined,
      { timeout: 10_000, polling: 100 },
    );
    await world.server.engine.configure({ switches: { userStatus: true } });

    // Logout: the device is gone from the engine.
    expect((await call(page, 'logout')).ok).toBe(true);
    await expect.poll(async () => (await world.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    await page.close();
    expect(outside).toEqual([]);
  }, 60_000);
});
