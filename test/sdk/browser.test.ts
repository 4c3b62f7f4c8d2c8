// The real Web SDK in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// loads the SDK's browser build (tim-js-sdk 2.x and @tencentcloud/chat 3.x, each its UMD file as shipped) from a
// tiny local page and talks to the gateway, with a Node SDK of the other version as its peer. In a browser the
// SDK runs its socket in a Blob Web Worker, which Node cannot show. Skips only off CI when Chromium is missing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ErrorCode, TYPES } from '../../src/index';
import { SDK_APP_ID, SDKS, sdkWorld, settledUplink, testUserSig, type SdkName, type SdkWorld } from './harness';

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
<html><head><meta charset="utf-8"><title>status-engine: the Web SDK in a browser</title></head>
<body><h1>the Web SDK against status-engine</h1><pre id="log"></pre>
<script>document.write('<script src="/' + new URLSearchParams(location.search).get('sdk') + '.js"><\\/script>');</script>
<script>
  // 2.x sets window.TIM, 3.x window.TencentCloudChat: the same API.
  window.SDK = window.TIM || window.TencentCloudChat;
  window.heard = [];
  window.kicked = [];
  window.say = (line) => { document.getElementById('log').textContent += line + '\\n'; };
  window.start = (proxyServer, SDKAppID) => {
    window.tim = SDK.create({ SDKAppID, proxyServer });
    tim.setLogLevel(4);
    tim.on(SDK.EVENT.USER_STATUS_UPDATED, (e) => { heard.push(...e.data); say('status ' + JSON.stringify(e.data)); });
    tim.on(SDK.EVENT.KICKED_OUT, (e) => kicked.push(e.data));
    window.ready = new Promise((resolve) => tim.on(SDK.EVENT.SDK_READY, () => { say('ready'); resolve(true); }));
  };
  // Each call resolves with {ok, data} or {ok: false, code, message}: the SDK's own results, serialisable.
  window.call = async (method, arg) => {
    try { const r = await tim[method](arg); return { ok: true, data: r.data }; }
    catch (e) { return { ok: false, code: e.code, message: e.message }; }
  };
</script></body></html>`;

/** A tiny local site: the page (`/?sdk=tim2`) and each SDK's browser build (the UMD file that sets window.TIM / window.TencentCloudChat). */
async function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const builds = new Map(Object.entries(SDKS).map(([name, sdk]) => [`/${name}.js`, readFileSync(sdk.path)]));
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    } else if (builds.has(path)) {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(builds.get(path));
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

  const openPage = async (sdk: SdkName): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`${site.url}?sdk=${sdk}`);
    await page.evaluate(([proxy, appId]) => (globalThis as any).start(proxy, appId), [world.server.url, SDK_APP_ID] as const);
    return page;
  };
  const call = (page: Page, method: string, arg?: unknown) =>
    page.evaluate(([m, a]) => (globalThis as any).call(m, a), [method, arg] as const) as Promise<{ ok: boolean; data?: any; code?: number; message?: string }>;

  // Each SDK in the browser, with a Node SDK of the other version as its peer.
  const cases: Array<{ sdk: SdkName; user: string; peer: string; peerSdk: SdkName }> = [
    { sdk: 'tim2', user: 'alice', peer: 'bob', peerSdk: 'chat3' },
    { sdk: 'chat3', user: 'carol', peer: 'dave', peerSdk: 'tim2' },
  ];

  it.each(cases)(
    '$sdk: logs in with a UserSig (a bad one is refused), boots and settles, follows a subscription to a $peerSdk peer, sets its status, and obeys the edition switch at once',
    async ({ sdk, user, peer, peerSdk }) => {
      const socketsBefore = new Set(world.server.uplink.keys());
      const page = await openPage(sdk);
      expect(await page.evaluate(() => (globalThis as any).SDK.VERSION)).toBe(SDKS[sdk].version);
      const bad = await call(page, 'login', { userID: user, userSig: 'forged' });
      expect(bad).toMatchObject({ ok: false, code: 70003 });

      expect((await call(page, 'login', { userID: user, userSig: testUserSig(user) })).ok).toBe(true);
      await page.waitForFunction(() => (globalThis as any).ready, undefined, { timeout: 15_000 });
      expect((await world.server.engine.queryStatus([user]))[0]!.statusType).toBe(TYPES.USER_STATUS_ONLINE);

      // Boot settles: the page's socket, as the server sees it, goes quiet after one round.
      const pageUplink = () => [...world.server.uplink].find(([ws, u]) => !socketsBefore.has(ws) && u.includes('im_open_status.wslogin'))?.[1];
      const { total, inWindow } = await settledUplink(pageUplink);
      expect(inWindow).toEqual([]);
      expect(total.length).toBeLessThanOrEqual(25);

      // SUB-1 with the peer as a Node SDK of the other version: its change reaches the browser.
      expect((await call(page, 'subscribeUserStatus', { userIDList: [peer] })).data).toEqual({ failureUserList: [] });
      const other = await world.online(peer, peerSdk);
      await other.tim.setSelfStatus({ customStatus: `hello browser ✓ ${sdk}` });
      await page.waitForFunction(
        ([id, text]) => (globalThis as any).heard.some((s: any) => s.userID === id && s.customStatus === text),
        [peer, `hello browser ✓ ${sdk}`] as const,
        { timeout: 10_000 },
      );

      // CS-1 from the browser, seen by the engine and by the peer's query.
      expect((await call(page, 'setSelfStatus', { customStatus: 'from chromium' })).data).toEqual({ userID: user, statusType: 1, customStatus: 'from chromium' });
      expect((await world.server.engine.queryStatus([user]))[0]!.customStatus).toBe('from chromium');
      expect((await other.tim.getUserStatus({ userIDList: [user] })).data.successUserList[0].customStatus).toBe('from chromium');

      // GATE-2: the edition goes off on the server; the browser's SDK refuses by itself, no reload.
      await world.server.engine.configure({ edition: 'pro' });
      await page.waitForFunction(
        async (id) => ((await (globalThis as any).call('getUserStatus', { userIDList: [id] })) as { code?: number }).code === 3122,
        peer,
        { timeout: 10_000, polling: 100 },
      );
      expect((await call(page, 'subscribeUserStatus', { userIDList: ['eve'] })).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
      await world.server.engine.configure({ edition: 'ultimate', switches: { userStatus: false } });
      await page.waitForFunction(
        async (id) => ((await (globalThis as any).call('getUserStatus', { userIDList: [id] })) as { code?: number }).code === 72001,
        peer,
        { timeout: 10_000, polling: 100 },
      );
      await world.server.engine.configure({ switches: { userStatus: true } });

      // Logout: the device is gone from the engine.
      expect((await call(page, 'logout')).ok).toBe(true);
      await expect.poll(async () => (await world.server.engine.queryStatus([user]))[0]!.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
      await page.close();
      expect(outside).toEqual([]);
    },
    60_000,
  );
});
