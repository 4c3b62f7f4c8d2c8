// The Web SDK's downlink (src/server/tim/downlink.ts) serializes a status push's body once per change: every
// recipient gets the same body bytes under its own head, and the frame is byte for byte the one the object
// form made (text on /info, binary on /binfo, gzipped behind COMP when asked and long enough).
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EVENT, type ClientEvent } from '../../src/events';
import { CMD, encodeFrame, encodeFrameText, wireStatus } from '../../src/protocol/tim/wire';
import type { DeviceSocket, GatewayContext } from '../../src/server/tim/device';
import { EncodedBody, deliver } from '../../src/server/tim/downlink';

function socket() {
  const pushes: Array<{ servcmd: string; body: unknown }> = [];
  const conn = { device: null, push: (servcmd: string, body: unknown) => void pushes.push({ servcmd, body }) } as unknown as DeviceSocket;
  return { conn, pushes };
}

const event = (custom: string): ClientEvent => ({ name: EVENT.USER_STATUS_UPDATED, data: [{ userID: 'alice', statusType: 1, customStatus: custom, version: 1, reason: 'custom_status_set' }] });
const gw = {} as GatewayContext;

describe('status pushes', () => {
  it('one body per change, shared by its recipients; a new change or seq is a new body', () => {
    const [a, b] = [socket(), socket()];
    const e = event('héllo');
    deliver(gw, a.conn, e, 7);
    deliver(gw, b.conn, e, 7);
    expect(a.pushes[0]!.servcmd).toBe(CMD.PUSH_MSG);
    expect(a.pushes[0]!.body).toBeInstanceOf(EncodedBody);
    expect(b.pushes[0]!.body).toBe(a.pushes[0]!.body);
    expect(JSON.parse((a.pushes[0]!.body as EncodedBody).json)).toEqual({
      EventArray: [{ Event: expect.any(Number), UserStatusList: e.name === EVENT.USER_STATUS_UPDATED ? e.data.map(wireStatus) : [] }],
      NeedAck: 1,
      SessionData: '7',
    });
    deliver(gw, a.conn, e, 8);
    deliver(gw, a.conn, event('other'), 8);
    const [, second, third] = a.pushes.map((p) => (p.body as EncodedBody).json);
    expect(JSON.parse(second!).SessionData).toBe('8');
    expect(third).not.toBe(second);
    expect(third).toContain(Buffer.from('other').toString('base64'));
  });

  it('the assembled frame is the bytes the object form encodes to: text, binary, and gzipped', () => {
    for (const custom of ['short', 'x'.repeat(2000)]) {
      const body = { EventArray: [{ Event: 1, UserStatusList: [wireStatus({ userID: 'bob', statusType: 1, customStatus: custom, version: 2, reason: 'custom_status_set' })] }], NeedAck: 1, SessionData: '12' };
      const text = `{"head":{"servcmd":${JSON.stringify(CMD.PUSH_MSG)},"seq":3},"body":${JSON.stringify(body)}}`;
      for (const opts of [{ binary: false, compress: false }, { binary: true, compress: false }, { binary: true, compress: true }]) {
        const mine = encodeFrameText(text, opts);
        const theirs = encodeFrame({ head: { servcmd: CMD.PUSH_MSG, seq: 3 }, body }, opts);
        const plain = (x: Buffer | string) => (typeof x === 'string' ? x : x.subarray(0, 4).toString() === 'COMP' ? gunzipSync(x.subarray(4)).toString() : x.toString());
        expect(plain(mine)).toBe(plain(theirs));
        expect(typeof mine).toBe(typeof theirs);
      }
    }
  });
});
