/**
 * Addresses of the synthetic network and of the Internet around it.
 *
 * Customers live in ranges that can never collide with a real network: IPv4 198.18.0.0/15 (RFC 2544,
 * benchmarking), one /24 per customer; IPv6 2001:db8::/32 (RFC 3849, documentation), one /48 per
 * customer. Peers, reflectors and spoofed sources are drawn from the public unicast space, avoiding
 * private, reserved, multicast and the customers' own ranges.
 */
import type { Rng } from '../common/rng.js';
import { formatIPv4, formatIPv6Groups as formatIPv6 } from '../ingest/address.js';

export const CUSTOMER_V4_BASE = (198 << 24) | (18 << 16); // 198.18.0.0
export const MAX_V4_CUSTOMERS = 512; // /24s in a /15

export { formatIPv4 };

/** Reserved or special IPv4 blocks that never appear as Internet peers: [network, prefix length]. */
const RESERVED_V4: readonly (readonly [number, number])[] = [
  [0x00000000, 8], // 0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 CGNAT
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24
  [0xc0000200, 24], // 192.0.2/24
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15 (our customers)
  [0xc6336400, 24], // 198.51.100/24
  [0xcb007100, 24], // 203.0.113/24
  [0xe0000000, 3], // 224/3 multicast and above
];

export function isPublicV4(a: number): boolean {
  for (const [net, len] of RESERVED_V4) {
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    if ((a & mask) >>> 0 === net) return false;
  }
  return true;
}

/** A random public unicast IPv4 address (uniform over the public space: how spoofed sources look). */
export function randomPublicV4(rng: Rng): number {
  for (;;) {
    const a = rng.u32();
    if (isPublicV4(a)) return a;
  }
}

/** First 16 bits of real-looking global IPv6 allocations (RIR blocks), never 2001:db8. */
const V6_TOP = [
  0x2001, 0x2003, 0x2400, 0x2401, 0x2404, 0x2405, 0x2408, 0x2409, 0x240e, 0x2600, 0x2601, 0x2602, 0x2603, 0x2604,
  0x2605, 0x2607, 0x2800, 0x2801, 0x2803, 0x2804, 0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2a04, 0x2a05, 0x2a06, 0x2a0e,
  0x2c0f,
];

/** A random global IPv6 address as text. Hosts often have short interface IDs (::1, ::a:3), so some do here. */
export function randomPublicV6(rng: Rng): string {
  const g = new Uint16Array(8);
  g[0] = rng.pick(V6_TOP);
  g[1] = rng.int(0x10000);
  if (g[0] === 0x2001 && g[1] === 0x0db8) g[1] = 0x0db9;
  g[2] = rng.int(0x10000);
  g[3] = rng.chance(0.5) ? rng.int(0x100) : rng.int(0x10000);
  if (rng.chance(0.3)) {
    g[7] = 1 + rng.int(0x1000);
  } else {
    for (let i = 4; i < 8; i++) g[i] = rng.int(0x10000);
  }
  return formatIPv6(g);
}

/** The IPv4 address of host `host` (1..254) of customer `c` (0-based). */
export function customerV4(c: number, host: number): number {
  return (CUSTOMER_V4_BASE + c * 256 + host) >>> 0;
}

/** The IPv6 address of host `host` of customer `c`: 2001:db8:<c+1>::<host>. */
export function customerV6(c: number, host: number): string {
  return formatIPv6([0x2001, 0x0db8, c + 1, 0, 0, 0, (host >>> 16) & 0xffff, host & 0xffff]);
}
