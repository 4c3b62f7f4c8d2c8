// UserSig compatibility with the reference package tls-sig-api-v2, and every refusal with its code.
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { genUserSig, verifyUserSig } from '../../src/server/usersig';

const require = createRequire(import.meta.url);
const { Api } = require('tls-sig-api-v2') as { Api: new (a: number, k: string) => { genUserSig(u: string, e: number): string; genPrivateMapKey(u: string, e: number, room: number, priv: number): string } };

const APP = 1400000001;
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const now = () => Date.now();
const opts = (o: Partial<{ sdkAppId: number; secretKey: string; nowMs: number }> = {}) => ({ sdkAppId: APP, secretKey: KEY, nowMs: now(), ...o });
const decode = (sig: string) => JSON.parse(inflateSync(Buffer.from(sig.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+'), 'base64')).toString()) as Record<string, unknown>;
const encode = (doc: object) => deflateSync(Buffer.from(JSON.stringify(doc))).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    return (e as { code: number }).code;
  }
  throw new Error('expected a refusal');
}

describe('UserSig (tls-sig-api-v2 format)', () => {
  it('a UserSig made by tls-sig-api-v2 is accepted for its user', () => {
    const sig = new Api(APP, KEY).genUserSig('alice', 86400);
    expect(verifyUserSig(sig, 'alice', opts())).toBe('alice');
    expect(verifyUserSig(sig, undefined, opts())).toBe('alice');
  });

  it('genUserSig makes what tls-sig-api-v2 makes (same document, same signature)', () => {
    const t = now();
    const ours = decode(genUserSig({ sdkAppId: APP, secretKey: KEY, identifier: 'bob', expireSeconds: 600, nowMs: t }));
    const theirs = decode(new Api(APP, KEY).genUserSig('bob', 600));
    // The reference reads the wall clock itself: compare at its time.
    const again = decode(genUserSig({ sdkAppId: APP, secretKey: KEY, identifier: 'bob', expireSeconds: 600, nowMs: (theirs['TLS.time'] as number) * 1000 }));
    expect(again).toEqual(theirs);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  });

  it('a UserSig with a userbuf (PrivateMapKey) verifies too: the signature covers the userbuf', () => {
    const sig = new Api(APP, KEY).genPrivateMapKey('carol', 600, 10000, 255);
    expect(verifyUserSig(sig, 'carol', opts())).toBe('carol');
    const doc = decode(sig);
    doc['TLS.userbuf'] = Buffer.from('tampered').toString('base64');
    expect(code(() => verifyUserSig(encode(doc), 'carol', opts()))).toBe(70003);
  });

  it('missing, malformed or forged: 70003', () => {
    const good = new Api(APP, KEY).genUserSig('alice', 86400);
    for (const bad of [undefined, '', 42, null, 'not base64 !!', 'eJyrVgrxCdYr', good.slice(0, 40), 'x'.repeat(5000)]) {
      expect(code(() => verifyUserSig(bad, 'alice', opts()))).toBe(70003);
    }
    // Made with another key.
    expect(code(() => verifyUserSig(new Api(APP, 'another-key-another-key').genUserSig('alice', 86400), 'alice', opts()))).toBe(70003);
    // A document changed after signing.
    const doc = decode(good);
    doc['TLS.expire'] = 10 * 365 * 86400;
    expect(code(() => verifyUserSig(encode(doc), 'alice', opts()))).toBe(70003);
    doc['TLS.ver'] = '1.0';
    expect(code(() => verifyUserSig(encode(doc), 'alice', opts()))).toBe(70003);
    expect(code(() => verifyUserSig(encode([1, 2]), 'alice', opts()))).toBe(70003);
  });

  it('expired: 70001 (after TLS.time + TLS.expire, by the verifier\'s clock)', () => {
    const sig = new Api(APP, KEY).genUserSig('alice', 60);
    const made = (decode(sig)['TLS.time'] as number) * 1000;
    expect(verifyUserSig(sig, 'alice', opts({ nowMs: made + 60_000 }))).toBe('alice');
    expect(code(() => verifyUserSig(sig, 'alice', opts({ nowMs: made + 61_000 })))).toBe(70001);
  });

  it('made for another user: 70013; for another SDKAppID: 70014', () => {
    expect(code(() => verifyUserSig(new Api(APP, KEY).genUserSig('bob', 86400), 'alice', opts()))).toBe(70013);
    expect(code(() => verifyUserSig(new Api(APP + 1, KEY).genUserSig('alice', 86400), 'alice', opts()))).toBe(70014);
  });
});

describe('UserSig forgery through the newline-separated signed text', () => {
  it('a UserSig the vendor package made for an identifier with newlines cannot be rewritten into another identifier', () => {
    // The signed text is `TLS.name:value` lines; a crafted identifier plus a crafted userbuf would sign the same text.
    const T = Math.floor(Date.now() / 1000);
    const E = 10 * 365 * 86400;
    const crafted = `administrator\nTLS.sdkappid:${APP}\nTLS.time:${T}\nTLS.expire:${E}\nTLS.userbuf:x`;
    const minted = decode(new Api(APP, KEY).genUserSig(crafted, 3600));
    const forged = encode({
      'TLS.ver': '2.0',
      'TLS.identifier': 'administrator',
      'TLS.sdkappid': APP,
      'TLS.time': T,
      'TLS.expire': E,
      'TLS.userbuf': `x\nTLS.sdkappid:${minted['TLS.sdkappid']}\nTLS.time:${minted['TLS.time']}\nTLS.expire:${minted['TLS.expire']}`,
      'TLS.sig': minted['TLS.sig'],
    });
    expect(code(() => verifyUserSig(forged, 'administrator', opts()))).toBe(70003);
    // Nor is the crafted identifier itself accepted, and none is minted here.
    expect(code(() => verifyUserSig(new Api(APP, KEY).genUserSig(crafted, 3600), undefined, opts()))).toBe(70003);
    expect(code(() => genUserSig({ sdkAppId: APP, secretKey: KEY, identifier: 'a\nb', expireSeconds: 60 }))).toBe(6017);
  });
});
