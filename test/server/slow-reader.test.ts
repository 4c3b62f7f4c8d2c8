// Issue 9 #4 on real sockets: a subscriber that stops reading is cut by the server once its unsent bytes
// pass the per-socket budget (terminated: its queue is freed at once), while a subscriber that reads hears
// every change. The figures under load (/healthz p99, RSS, 50 such sockets) are bench/slow-readers.ts's.
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from './proc';
import { hubClient, startInProcess, type TestServer } from './wire';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

it('a non-reading subscriber is cut at maxBufferedBytes; a reading one hears every change; the buffers are released', async () => {
  // Big statuses, so that a few changes fill the kernel's buffers and the budget. The request budget charges
  // a frame by its size (one request per 16 KiB: a 200 KB call costs 13), so it is raised for the 80 calls.
  s = await startInProcess({ maxBufferedBytes: 64 * 1024, maxFrameBytes: 512 * 1024, requestBudget: { burst: 2000, ratePerSec: 20, closeAfterRefusals: 100 }, settings: { switches: { userStatus: true }, limits: { customStatusMaxBytes: 300_000 } } });
  await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['pub', 'slow', 'reader'] });
  const pub = await hubClient(s);
  await pub.login('pub');
  const slow = await hubClient(s);
  await slow.login('slow');
  const reader = await hubClient(s);
  await reader.login('reader');
  for (const c of [slow, reader]) expect((await c.call('subscribeUserStatus', { userIDList: ['pub'] })).ok).toBe(true);
  const before = (await s.health()).connections as number;
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading: TCP fills, then the server's queue
  let heard = 0;
  reader.ws.on('message', (d) => {
    if (JSON.parse(String(d)).t === 'push') heard++;
  });
  let changes = 0;
  // Enough to fill the kernel's buffers on both ends and then the budget; stops as soon as the cut is seen.
  for (; changes < 80; changes++) {
    expect((await pub.call('setSelfStatus', { customStatus: `${'x'.repeat(200_000)}${changes}` })).ok).toBe(true);
    if ((await s.health()).connections < before) break;
  }
  const h: Record<string, any> = await until(async () => {
    const x = await s!.health();
    return x.connections === before - 1 ? x : null;
  }, 'the slow subscriber to be cut');
  expect(h.bufferedBytes).toBeLessThan(64 * 1024 * 2);
  expect(s.lines.some((l) => l.msg === 'client too slow: socket cut' && /maxBufferedBytes = 65536/.test(l.why))).toBe(true);
  await until(() => heard >= changes + 1, 'the reader to hear every change');
  expect(reader.ws.readyState).toBe(WebSocket.OPEN);
  slow.ws.terminate();
  pub.ws.terminate();
  reader.ws.terminate();
});
