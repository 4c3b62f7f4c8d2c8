// The admin dashboard in headless Chromium (Debian's /usr/bin/chromium through playwright-core): it is built
// by Vite into dist/dashboard (when its sources are newer), served by the real server at /dashboard, and
// followed while a user logs in, sets a status and logs out. Screenshots are kept under .tmp/dashboard/.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index';
import { startServer, type RunningServer } from '../../src/server/server';
import { SDK_APP_ID, SECRET, sig } from '../server/proc';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');
const SHOTS = join(ROOT, '.tmp/dashboard');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'];

const newest = (dir: string): number =>
  Math.max(...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs)));

/** `npm run build`'s dashboard step, run only when dist/dashboard is missing or older than its sources. */
async function buildDashboard(): Promise<void> {
  const built = join(ROOT, 'dist/dashboard/index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'dashboard'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'dashboard/vite.config.ts') });
}

let server: RunningServer;
let context: BrowserContext;
let profile: string;
const clients: Client[] = [];
const outside: string[] = [];

beforeAll(async () => {
  await buildDashboard();
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sdkAppId: SDK_APP_ID,
    secretKey: SECRET,
    logger: pino({ level: 'silent' }),
    settings: { switches: { userStatus: true } },
  });
  await server.core.registerUsers(['alice', 'bob']);
  await server.core.changeFriends('alice', ['bob'], true);
  if (!hasChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'status-engine-dashboard-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 } });
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await server?.close();
});

const field = (page: Page, name: string) => page.locator(`dd[data-field="${name}"]`);

describe.skipIf(!hasChromium)('the admin dashboard in Chromium', () => {
  it('signs in, follows a user logging in, setting a status and logging out, and changes the console settings', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Not signed in, the API refuses; a forged UserSig is refused with the verifier's code.
    expect((await fetch(`${server.url}/dashboard/api/counts`)).status).toBe(401);
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#usersig', 'forged');
    await page.click('#signin-form button');
    await expect.poll(() => page.textContent('#signin-error')).toMatch(/refused \(700\d\d\)/);
    await page.fill('#usersig', sig('administrator'));
    await page.click('#signin-form button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('[data-count="registered"] strong');
    expect(await page.textContent('[data-count="registered"] strong')).toBe('2');

    await page.fill('#search', 'alice');
    await page.click('#search-form button');
    await expect.poll(() => field(page, 'status').textContent()).toBe('UNLOGINED');
    await page.check('#watch');
    expect(await page.getAttribute('svg[data-machine="userStatus"] .state.current', 'data-state')).toBe('userStatus.registered');
    expect(await page.textContent('[data-list="friends"]')).toContain('bob');
    await page.screenshot({ path: join(SHOTS, '1-signed-in.png'), fullPage: true });

    const alice = createClient({ url: server.url });
    clients.push(alice);
    await alice.login({ userID: 'alice', userSig: sig('alice') });
    await expect.poll(() => field(page, 'status').textContent(), { timeout: 10_000 }).toBe('ONLINE');
    await page.waitForSelector('#stream li[data-event="DEVICE.LOGIN"]');
    expect(await page.getAttribute('svg[data-machine="userStatus"] .state.current', 'data-state')).toBe('userStatus.online');
    expect(await page.locator('svg[data-machine="deviceLink"] .state.current').getAttribute('data-state')).toBe('deviceLink.live');
    await expect.poll(() => page.textContent('[data-count="online"] strong'), { timeout: 10_000 }).toBe('1');
    await expect.poll(() => page.textContent('[data-count="conn-client"] strong'), { timeout: 10_000 }).toBe('1');

    await alice.setSelfStatus({ customStatus: 'at lunch' });
    await expect.poll(() => field(page, 'custom-status').textContent(), { timeout: 10_000 }).toBe('at lunch');
    await page.waitForSelector('#stream li[data-event="STATUS.SET"]');
    await expect.poll(() => page.textContent('#journal tbody'), { timeout: 10_000 }).toContain('STATUS.SET');
    expect(await field(page, 'reason').textContent()).toBe('custom_status_set');
    await page.screenshot({ path: join(SHOTS, '2-online.png'), fullPage: true });

    await alice.logout();
    await expect.poll(() => field(page, 'status').textContent(), { timeout: 10_000 }).toBe('UNLOGINED');
    await page.waitForSelector('#stream li[data-event="DEVICE.LOGOUT"]');
    expect(await page.getAttribute('svg[data-machine="userStatus"] .state.current', 'data-state')).toBe('userStatus.unlogined.clearPending');
    expect(await page.locator('svg[data-machine="deviceLink"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, '3-logged-out.png'), fullPage: true });

    // Settings: the REST validation refuses a bad limit (and nothing changes); a good change lands.
    await page.fill('#limits', '{"subscriptionQuota": -1}');
    await page.click('#settings-form button');
    await expect.poll(() => page.textContent('#settings-result')).toMatch(/refused \(\d+\).*subscriptionQuota/);
    expect(server.core.settings().limits.subscriptionQuota).toBeGreaterThan(0);
    await page.fill('#limits', '{}');
    await page.check('#sw-friendStatusNotify');
    await page.click('#settings-form button');
    await expect.poll(() => page.textContent('#settings-result')).toBe('applied');
    expect(server.core.settings().switches.friendStatusNotify).toBe(true);
    await page.screenshot({ path: join(SHOTS, '4-settings.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  }, 60_000);

  it('takes the UserSig once from the URL fragment and removes it from the address bar', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/dashboard#usersig=${encodeURIComponent(sig('administrator'))}`);
    await page.waitForSelector('#app:not([hidden])');
    expect(new URL(page.url()).hash).toBe('');
    // The entry was replaced, not added: back and forward again, the fragment is still gone.
    await page.goBack();
    await page.goForward();
    expect(new URL(page.url()).hash).toBe('');
    await page.close();
  });
});

describe('the dashboard over HTTP', () => {
  it('serves the built page with a strict CSP, and only flat asset names', async () => {
    const res = await fetch(`${server.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain('/dashboard/assets/');
    expect((await fetch(`${server.url}/dashboard/assets/..%2Fpackage.json`)).status).toBe(404);
  });
  it('the API wants the administrator: another user\'s valid UserSig is refused', async () => {
    const res = await fetch(`${server.url}/dashboard/api/users/alice`, { headers: { authorization: `UserSig ${sig('alice')}` } });
    expect(res.status).toBe(401);
    const ok = await fetch(`${server.url}/dashboard/api/users/nobody`, { headers: { authorization: `UserSig ${sig('administrator')}` } });
    expect([ok.status, ((await ok.json()) as { ErrorCode: number }).ErrorCode]).toEqual([404, 70107]);
  });
});
