// The Web SDK's frames, decoded before anything else (no login needed): a compressed frame is inflated only
// up to a bound, so a small frame cannot become a huge one.
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeFrame, MAX_INFLATED_BYTES } from '../../src/protocol/tim/wire';

const comp = (body: Buffer) => Buffer.concat([Buffer.from('COMP'), body]);

describe('decodeFrame', () => {
  it('inflates a COMP frame (gzip or zlib) of a normal size', () => {
    const frame = JSON.stringify({ head: { servcmd: 'heartbeat.alive', seq: 1 }, body: {} });
    expect(decodeFrame(comp(gzipSync(frame))).head.servcmd).toBe('heartbeat.alive');
    expect(decodeFrame(comp(deflateSync(frame))).head.servcmd).toBe('heartbeat.alive');
  });

  it('refuses a COMP frame that inflates past the bound, without inflating it all (a zip bomb)', () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // 64 MiB of spaces in ~64 KB
    expect(bomb.length).toBeLessThan(200_000);
    expect(() => decodeFrame(comp(bomb))).toThrow(new RegExp(`more than ${MAX_INFLATED_BYTES} bytes`));
  });
});
