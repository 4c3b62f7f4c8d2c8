// The client's address when the server sits behind load balancers or reverse proxies: `X-Forwarded-For` is
// read, right to left, only when the connection comes from a proxy the operator named (`--trust-proxy`);
// from anyone else the header is ignored, so it cannot be used to dodge the per-address caps or to forge the
// address in the logs. The server remembers each request's client address here for the hub, the gateway and REST.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Named ranges a trust list may use besides addresses and CIDRs. */
const NAMED: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
});

/** At most this many trusted hops are walked through (a proxy chain is a few; the rest is someone's header). */
const MAX_HOPS = 16;

/** `a.b.c.d`, `::ffff:a.b.c.d` (as a.b.c.d), `[v6]`, `[v6]:port` and `a.b.c.d:port` as a bare address; null if none. */
export function plainAddress(raw: string): string | null {
  let a = raw.trim();
  const bracket = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  if (bracket) a = bracket[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (/^::ffff:\d{1,3}(?:\.\d{1,3}){3}$/i.test(a)) a = a.slice(7);
  return isIP(a) === 0 ? null : a.toLowerCase();
}

/** Why `entry` is not an address, a CIDR or a named range (null when it is one). */
export function trustEntryError(entry: string): string | null {
  if (NAMED[entry]) return null;
  const [addr, bits, more] = entry.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || more !== undefined) return `'${entry}' is not an address, a CIDR (a.b.c.d/n, v6::/n) or one of ${Object.keys(NAMED).join(', ')}`;
  if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128))) return `'${entry}' has a prefix length outside 0-${family === 4 ? 32 : 128}`;
  return null;
}

/** The proxies whose `X-Forwarded-For` is believed. Empty (the default): nobody's. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws on an entry that is not an address, a CIDR or a named range (config.ts checks them first). */
  constructor(entries: readonly string[] = []) {
    const all = entries.flatMap((e) => NAMED[e] ?? [e]);
    for (const e of all) {
      const why = trustEntryError(e);
      if (why) throw new Error(`trust-proxy: ${why}`);
      const [addr, bits] = e.split('/') as [string, string | undefined];
      const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(bits), type);
    }
    this.size = all.length;
  }

  trusts(address: string): boolean {
    const a = plainAddress(address);
    return a !== null && this.list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then `X-Forwarded-For` from the right,
 * skipping trusted hops, up to the first untrusted one (the rightmost address no trusted proxy vouches for
 * being a proxy). Every hop walked was written by a trusted proxy; one that is not an address (a proxy gone
 * wrong) stops the walk at the proxy before it. Several headers count as one list, in order.
 */
export function clientAddress(peer: string | undefined, forwarded: string | readonly string[] | undefined, trust: TrustedProxies): string | undefined {
  if (peer === undefined || trust.size === 0 || forwarded === undefined || !trust.trusts(peer)) return peer;
  const hops = (typeof forwarded === 'string' ? forwarded : forwarded.join(',')).split(',');
  let last = plainAddress(peer) ?? peer;
  for (let i = hops.length - 1, walked = 0; i >= 0 && walked < MAX_HOPS; i--, walked++) {
    const hop = plainAddress(hops[i]!);
    if (hop === null) return last;
    if (!trust.trusts(hop)) return hop;
    last = hop;
  }
  return last;
}

const remembered = new WeakMap<IncomingMessage, string>();

/** The server says a request's client address (when it differs from the peer's: behind a trusted proxy). */
export function rememberClient(req: IncomingMessage, address: string | undefined): void {
  if (address !== undefined && address !== req.socket?.remoteAddress) remembered.set(req, address);
}

/** The request's client address: the one behind a trusted proxy, else the peer's. */
export function clientAddressOf(req: IncomingMessage): string | undefined {
  return remembered.get(req) ?? req.socket?.remoteAddress;
}

/** For log lines: `addr:port`, or behind a trusted proxy `client (via proxy:port)`. */
export function remoteLabel(req: IncomingMessage): string {
  const peer = `${req.socket?.remoteAddress ?? '?'}:${req.socket?.remotePort ?? '?'}`;
  const client = remembered.get(req);
  return client === undefined ? peer : `${client} (via ${peer})`;
}
