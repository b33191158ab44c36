/**
 * IP addresses and prefixes: IPv4 as an unsigned 32-bit number, IPv6 as its canonical text
 * (RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups shortened to
 * `::` (the first one on a tie), IPv4-mapped addresses as `::ffff:a.b.c.d`).
 *
 * Pure functions. The byte variants read ASCII straight out of a Buffer (the readers' fast path).
 * Strict on purpose: `256.1.1.1`, `1.2.3`, `01.2.3.4` (leading zero: octal or decimal? Node and
 * Python refuse it too) and `1.2.3.4 ` are not IPv4 addresses.
 */

/** IPv4 from `buf[start, end)`, or -1 when those bytes are not a dotted quad. */
export function parseIPv4Bytes(buf: Uint8Array, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** IPv4 from text, or -1. */
export function parseIPv4(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return -1;
    bytes[i] = c;
  }
  return parseIPv4Bytes(bytes, 0, n);
}

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export function formatIPv4(addr: number): string {
  return `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * The eight 16-bit groups of an IPv6 address written in any RFC 4291 text form (`::` at most once,
 * 1-4 hex digits per group, an optional trailing dotted quad), or null. No zone (`%eth0`), no brackets.
 */
export function parseIPv6Groups(text: string): Uint16Array | null {
  const n = text.length;
  if (n < 2 || n > 45) return null;
  const head: number[] = [];
  const tail: number[] = [];
  let out = head;
  let sawDoubleColon = false;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return null; // a lone leading ':'
    sawDoubleColon = true;
    out = tail;
    i = 2;
    if (i === n) return new Uint16Array(8); // '::'
  }
  for (;;) {
    // one group (or a dotted quad at the end) starts at i
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      // embedded IPv4: must be the last thing, taking two groups
      const v4 = parseIPv4(text.slice(i));
      if (v4 < 0) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    if (j === i || j - i > 4) return null;
    out.push(value);
    if (j === n) break;
    if (text.charCodeAt(j) !== 58) return null;
    j++;
    if (j < n && text.charCodeAt(j) === 58) {
      if (sawDoubleColon) return null;
      sawDoubleColon = true;
      out = tail;
      j++;
      if (j === n) break;
    } else if (j === n) {
      return null; // trailing single ':'
    }
    i = j;
  }
  const total = head.length + tail.length;
  if (sawDoubleColon ? total > 7 : total !== 8) return null;
  const groups = new Uint16Array(8);
  groups.set(head, 0);
  groups.set(tail, 8 - tail.length);
  return groups;
}

/** RFC 5952 text of eight 16-bit groups. */
export function formatIPv6Groups(g: ArrayLike<number>): string {
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5)
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6] >>> 8}.${g[6] & 255}.${g[7] >>> 8}.${g[7] & 255}`;
  }
  // the longest run of >= 2 zero groups, the first one on a tie
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => {
    const parts: string[] = [];
    for (let k = from; k < to; k++) parts.push(g[k].toString(16));
    return parts.join(':');
  };
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Canonical (RFC 5952) text of an IPv6 address, or null when `text` is not one. */
export function canonicalIPv6(text: string): string | null {
  const g = parseIPv6Groups(text);
  return g ? formatIPv6Groups(g) : null;
}

/**
 * The same with a bounded memo: flow files repeat the same few IPv6 addresses, and this keeps the
 * readers from re-parsing them line after line.
 */
const ipv6Memo = new Map<string, string | null>();
export function canonicalIPv6Cached(text: string): string | null {
  let c = ipv6Memo.get(text);
  if (c === undefined) {
    c = canonicalIPv6(text);
    if (ipv6Memo.size >= 65536) ipv6Memo.clear();
    ipv6Memo.set(text, c);
  }
  return c;
}

/** The 128-bit value of an IPv6 address (any valid text form), or null. */
export function ipv6ToBigInt(text: string): bigint | null {
  const g = parseIPv6Groups(text);
  if (!g) return null;
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 16n) | BigInt(g[i]);
  return v;
}

/** Canonical text of a 128-bit IPv6 value. */
export function bigIntToIPv6(value: bigint): string {
  const g = new Uint16Array(8);
  for (let i = 7; i >= 0; i--) {
    g[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  return formatIPv6Groups(g);
}

/** A parsed prefix. `text` is its canonical form (`10.0.0.0/8`, `2001:db8::/32`). */
export type Cidr =
  | { family: 4; network: number; prefixLength: number; text: string }
  | { family: 6; network: bigint; prefixLength: number; text: string };

/**
 * Parses an address or prefix: `10.1.2.3` (= /32), `10.0.0.0/8`, `2001:db8::1` (= /128),
 * `2001:DB8::/32`. Throws an Error saying what is wrong; with `strict` (default) host bits set
 * below the prefix (`10.0.0.1/8`) are an error, otherwise they are cleared.
 */
export function parseCidr(input: string, strict = true): Cidr {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? null : text.slice(slash + 1);
  const isV6 = addrText.includes(':');
  const maxLen = isV6 ? 128 : 32;
  let prefixLength = maxLen;
  if (lenText !== null) {
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > maxLen) {
      throw new Error(`'${input}': bad prefix length '${lenText}' (0-${maxLen} for IPv${isV6 ? 6 : 4})`);
    }
    prefixLength = Number(lenText);
  }
  if (isV6) {
    const v = ipv6ToBigInt(addrText);
    if (v === null) throw new Error(`'${input}': '${addrText}' is not an IPv6 address`);
    const hostBits = 128n - BigInt(prefixLength);
    const network = (v >> hostBits) << hostBits;
    if (strict && network !== v)
      throw new Error(
        `'${input}': host bits set below /${prefixLength} (did you mean ${bigIntToIPv6(network)}/${prefixLength}?)`,
      );
    return { family: 6, network, prefixLength, text: `${bigIntToIPv6(network)}/${prefixLength}` };
  }
  const v = parseIPv4(addrText);
  if (v < 0) throw new Error(`'${input}': '${addrText}' is not an IPv4 or IPv6 address`);
  const network = prefixLength === 0 ? 0 : (v & mask4(prefixLength)) >>> 0;
  if (strict && network !== v)
    throw new Error(
      `'${input}': host bits set below /${prefixLength} (did you mean ${formatIPv4(network)}/${prefixLength}?)`,
    );
  return { family: 4, network, prefixLength, text: `${formatIPv4(network)}/${prefixLength}` };
}

/** The IPv4 netmask of a prefix length, as a signed 32-bit number (use `>>> 0` for unsigned). */
export function mask4(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) | 0;
}

/** Whether an IPv4 address (unsigned 32-bit) lies in an IPv4 prefix. */
export function cidrContains4(c: Cidr, addr: number): boolean {
  return c.family === 4 && (addr & mask4(c.prefixLength)) >>> 0 === c.network;
}

/** Whether an IPv6 address (any valid text, or its 128-bit value) lies in an IPv6 prefix. */
export function cidrContains6(c: Cidr, addr: string | bigint): boolean {
  if (c.family !== 6) return false;
  const v = typeof addr === 'bigint' ? addr : ipv6ToBigInt(addr);
  if (v === null) return false;
  const hostBits = 128n - BigInt(c.prefixLength);
  return v >> hostBits === c.network >> hostBits;
}
