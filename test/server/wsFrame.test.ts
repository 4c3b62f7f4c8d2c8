// The link's own WebSocket framing (src/server/link/socket.ts): byte for byte what ws makes for a server's
// frame, text and binary, at every length boundary of RFC 6455's payload length.
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { wsFrame } from '../../src/server/link/socket';

const wsFramed = (data: string | Buffer, binary: boolean): Buffer =>
  // ws exports its Sender at run time (its types do not declare it).
  Buffer.concat((ws as unknown as { Sender: { frame(d: unknown, o: object): Array<Buffer | string> } }).Sender.frame(typeof data === 'string' ? Buffer.from(data) : data, {
    fin: true, rsv1: false, opcode: binary ? 2 : 1, mask: false, readOnly: false,
  }).map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));

describe('wsFrame', () => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    it(`a ${n}-byte payload, text and binary, framed as ws frames it`, () => {
      const bytes = Buffer.alloc(n, 0x61);
      expect(wsFrame(bytes, false).equals(wsFramed(bytes, false))).toBe(true);
      expect(wsFrame(bytes, true).equals(wsFramed(bytes, true))).toBe(true);
      expect(wsFrame(bytes.toString('latin1'), false).equals(wsFramed(bytes, false))).toBe(true);
    });
  }
  it('a string is framed by its UTF-8 length, not its length in characters', () => {
    const s = '状态'.repeat(30); // 60 characters, 180 bytes: a 126 header
    const f = wsFrame(s, false);
    expect(f[1]).toBe(126);
    expect(f.readUInt16BE(2)).toBe(180);
    expect(f.equals(wsFramed(s, false))).toBe(true);
    expect(f.subarray(4).toString('utf8')).toBe(s);
  });
});
