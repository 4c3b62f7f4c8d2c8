// Red team: /metrics is unauthenticated (an operator's scrape), and rendering it is not cheap: the process
// metrics of the real executable list the open file descriptors and handles, so a scrape cost 1.1 ms of
// server CPU at 200 sockets and 7.7-8.6 ms at 3,000 (/readyz: 60-190 µs; .tmp/red/a6-healthz.ts, load 13):
// a few dozen requests a second from anyone pinned a core. Now one rendering serves every scrape for a
// second (Prometheus scrapes every 15-60 s), so the cost no longer follows the request rate.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from '../proc';
import { startInProcess, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('/metrics under a flood of scrapes', () => {
  it('100 scrapes at once and in a row render the metrics at most twice; a change still shows within seconds', async () => {
    s = await startInProcess();
    const renders = vi.spyOn(s.server.core, 'userCount'); // the users_registered gauge reads it once per rendering
    const scrape = () => fetch(`${s!.url}/metrics`).then((r) => r.text());
    await Promise.all(Array.from({ length: 50 }, scrape));
    for (let i = 0; i < 50; i++) expect(await scrape()).toMatch(/status_engine_users_registered 0/);
    expect(renders.mock.calls.length).toBeLessThanOrEqual(2);

    expect((await s.rest('im_open_login_svc/account_import', { UserID: 'alice' })).ActionStatus).toBe('OK');
    await until(async () => /status_engine_users_registered 1/.test(await scrape()), 'the new user in /metrics', 5000);
  });
});
