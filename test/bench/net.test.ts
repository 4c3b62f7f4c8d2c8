// Parts 3 and 7's machinery (bench/net/): the latency histogram's quantiles, and the load generators
// counting exactly the pushes the server's fan-out sends, in both protocols. No timing is asserted here: the
// figures are bench/run.ts's business (npm run bench).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Fleet, importUsers, SERVE_NODE_FLAGS } from '../../bench/net/fleet';
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

describe('bench/net load generators on a socket the server closed', () => {
  /** A server that says hello (our protocol) unless told not to, and closes each socket at its first frame or at once. */
  async function closer(o: { hello: boolean; at: 'open' | 'frame' }): Promise<{ url: string; close(): Promise<void> }> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => {
      if (o.at === 'open') return ws.close(4002, 'closed at once for the test');
      if (o.hello) ws.send(JSON.stringify({ t: 'hello' }));
      ws.once('message', () => ws.close(4001, 'login refused for the test'));
    });
    return { url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, close: () => new Promise((r) => wss.close(() => r())) };
  }

  const params = (url: string, proto: 'ws' | 'sdk') => ({ proto, url, users: 4, subs: 0, seed: 7, secretKey: SECRET, sdkAppId: SDK_APP_ID, heartbeatMs: 10_000 });

  for (const proto of ['ws', 'sdk'] as const) {
    it(`${proto}: a login the server answers by closing the socket fails the setup with its code and reason`, async () => {
      const srv = await closer({ hello: proto === 'ws', at: 'frame' });
      const fleet = await Fleet.start(ROOT, 1, params(srv.url, proto));
      try {
        await expect(fleet.setup()).rejects.toThrow(/login of user \S+: the server closed the socket \(code 4001, login refused for the test\)/);
      } finally {
        await fleet.stop();
        await srv.close();
      }
    }, 60_000);
  }

  it('ws: a socket closed before the server said hello fails the setup', async () => {
    const srv = await closer({ hello: true, at: 'open' });
    const fleet = await Fleet.start(ROOT, 1, params(srv.url, 'ws'));
    try {
      await expect(fleet.setup()).rejects.toThrow(/closed \(code 4002, closed at once for the test\) before the server's hello/);
    } finally {
      await fleet.stop();
      await srv.close();
    }
  }, 60_000);
});

describe('the node flags serve is benchmarked with', () => {
  it("are the Dockerfile's: the image runs serve as the benchmarks measure it", () => {
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    const argv = JSON.parse(entry ?? '[]') as string[];
    expect(argv[0]).toBe('node');
    expect(argv.slice(1, argv.indexOf('dist/cli.js'))).toEqual([...SERVE_NODE_FLAGS]);
  });

  it("are npm start's and the systemd unit's in docs/operations.md", () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    expect(/^exec node (.*) dist\/cli\.js serve/.exec(start)?.[1]?.split(' ')).toEqual([...SERVE_NODE_FLAGS]);
    const unit = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'))?.[1];
    expect(unit?.split(' ')).toEqual([...SERVE_NODE_FLAGS]);
  });
});
