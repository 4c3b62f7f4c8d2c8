// The admin dashboard of a cluster node in headless Chromium (Debian's /usr/bin/chromium, playwright-core):
// the page on node a follows a user whose shard node b owns (status, reason, machines, live steps polled
// from b) and shows a's own panel (node, shards, live nodes, Redis). Screenshots under .tmp/dashboard/.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_POLL_MS } from '../../../src/server/dashboardCluster';
import { sig } from '../proc';
import { hubClient } from '../wire';
import { startTestCluster, type Node, type TestCluster } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../../..');
const SHOTS = join(ROOT, '.tmp/dashboard');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'];

const newest = (dir: string): number =>
  Math.max(...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs)));

let cluster: TestCluster;
let context: BrowserContext;
let profile: string;
beforeAll(async () => {
  const built = join(ROOT, 'dist/dashboard/index.html');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, 'dashboard'))) {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'dashboard/vite.config.ts'), logLevel: 'warn' });
  }
  mkdirSync(SHOTS, { recursive: true });
  cluster = await startTestCluster(['a', 'b']);
  if (!hasChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'status-engine-dashboard-cluster-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 } });
}, 90_000);
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await cluster?.close();
});

const field = (page: Page, name: string) => page.locator(`dd[data-field="${name}"]`);

describe.skipIf(!hasChromium)('the dashboard of a cluster node in Chromium', () => {
  it("shows a user another node owns, its steps, and this node's panel", async () => {
    const [a, b] = cluster.nodes as [Node, Node];
    const [u] = cluster.usersOf(b, 1) as [string];
    await a.rest('im_open_login_svc/account_import', { UserID: u });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${a.url}/dashboard#usersig=${encodeURIComponent(sig('administrator'))}`);
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#node:not([hidden])');
    expect(await page.textContent('dd[data-node="node"]')).toBe('a');
    expect(await page.textContent('dd[data-node="live nodes"]')).toBe('a, b');
    expect(await page.textContent('dd[data-node="Redis"]')).toBe('ready');
    expect(await page.textContent('#node .note')).toMatch(/read every 2 s/);
    await expect.poll(() => page.textContent('[data-count="registered"] strong')).toBe('1');

    await page.fill('#search', u);
    await page.click('#search-form button');
    await expect.poll(() => field(page, 'status').textContent()).toBe('UNLOGINED');
    await page.check('#watch');
    await new Promise((r) => setTimeout(r, 100)); // the new stream's first read of the user
    const c = await hubClient(a); // relayed to b
    expect((await c.login(u)).ok).toBe(true);
    expect((await c.call('setSelfStatus', { customStatus: 'on b' })).ok).toBe(true);
    // b's steps reach a's page by the poll (the nodes' clock is simulated: moved on here).
    await expect
      .poll(async () => {
        cluster.clock.increment(CLUSTER_POLL_MS);
        return page.locator('#stream li[data-event="STATUS.SET"]').count();
      }, { timeout: 10_000 })
      .toBe(1);
    await expect.poll(() => field(page, 'custom-status').textContent(), { timeout: 10_000 }).toBe('on b');
    expect(await field(page, 'reason').textContent()).toBe('custom_status_set');
    expect(await page.getAttribute('svg[data-machine="userStatus"] .state.current', 'data-state')).toBe('userStatus.online');
    await expect.poll(() => page.textContent('#journal tbody'), { timeout: 10_000 }).toContain('STATUS.SET');
    await page.screenshot({ path: join(SHOTS, 'cluster-node-a.png'), fullPage: true });
    c.ws.close();
    expect(errors).toEqual([]);
  }, 60_000);
});
