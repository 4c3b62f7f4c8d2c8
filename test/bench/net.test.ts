// Parts 3 and 7's machinery (bench/net/): the latency histogram's quantiles, and the load generators
// counting exactly the pushes the server's fan-out sends, in both protocols. No timing is asserted here: the
// figures are bench/run.ts's business (npm run bench).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, importUsers } from '../../bench/net/fleet';
import { Histogram } from '../../bench/net/histogram';
import { ROOT, SDK_APP_ID, SECRET } from '../server/proc';
import { startInProcess, type TestServer } from '../server/wire';

describe('bench/net histogram', () => {
  it('NTF-2 quantiles are exact to a 10 µs bucket, and merging adds the counts', () => {
    const a = new Histogram();
    for (let i = 1; i <= 1000; i++) a.add(i * 100); // 0.1 ms .. 100 ms
    expect(a.quantileMs(0.5)).toBeCloseTo(50.01, 2);
    expect(a.quantileMs(0.99)).toBeCloseTo(99.01, 2);
    expect(a.summary().maxMs).toBe(100);
    const b = new Histogram();
    b.merge(a.toJSON());
    b.add(5_000_000); // past the last bucket: counted, and the max
    expect(b.n).toBe(1001);
    expect(b.quantileMs(1)).toBe(5000);
    expect(new Histogram().quantileMs(0.5)).toBeNaN();
  });
});

describe('bench/net load generators', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startInProcess();
    await importUsers(s.url, { users: 30, secretKey: SECRET, sdkAppId: SDK_APP_ID });
  });
  afterAll(() => s.close());

  for (const proto of ['ws', 'sdk'] as const) {
    it(`NTF-2 ${proto}: every push the fan-out sends is counted and timed, none refused`, async () => {
      const fleet = await Fleet.start(ROOT, 2, { proto, url: s.url, users: 30, subs: 4, seed: 7, secretKey: SECRET, sdkAppId: SDK_APP_ID, heartbeatMs: 10_000 });
      try {
        await fleet.setup();
        const r = await fleet.phase(1, 40, 500, 5000);
        expect(r.changes).toBe(20);
        // Each change reaches the caller and its subscribers: 30 users x 4 subscriptions spread over them.
        expect(r.expected).toBeGreaterThan(r.changes);
        expect(r.delivered).toBe(r.expected);
        expect(r.latency.n).toBe(r.expected);
        expect(r.errors).toBe(0);
        expect(r.closed).toBe(0);
      } finally {
        await fleet.stop();
      }
    }, 60_000);
  }
});
