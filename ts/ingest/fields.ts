/**
 * Byte-level helpers for the text readers: split one line into fields, read numbers and timestamps
 * straight out of the Buffer. No strings, no allocation on the fast paths; the slow paths (odd
 * number spellings) make a string only when the fast path gives up.
 *
 * Conventions: a field is `buf[start, end)`; functions that can fail return -1 or NaN.
 */

/**
 * Splits `buf[start, end)` on commas. Writes the start offset of field k into `pos[k]` and, after
 * the last field, `end + 1` into `pos[count]`, so field k spans `pos[k] .. pos[k+1] - 1`. Returns the
 * number of fields; fields beyond `pos.length - 2` are counted but not recorded.
 */
export function splitFields(buf: Uint8Array, start: number, end: number, pos: Int32Array): number {
  const cap = pos.length - 1;
  let n = 0;
  pos[0] = start;
  for (let i = start; i < end; i++) {
    if (buf[i] === 44) {
      if (++n < cap) pos[n] = i + 1;
    }
  }
  n++;
  if (n < cap) pos[n] = end + 1;
  return n;
}

/** Aligned 32-bit view of the ArrayBuffer behind the last Buffer seen (see countCommas). */
let viewFor: Uint8Array | null = null;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** The aligned 32-bit view of `buf`'s ArrayBuffer (cached for the last one). */
function wordsOf(buf: Uint8Array): Uint32Array<ArrayBufferLike> {
  if (buf !== viewFor) {
    viewFor = buf;
    if (words.buffer !== buf.buffer) words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  }
  return words;
}

/**
 * Number of commas in `buf[start, end)`, four bytes at a time (SWAR): for each aligned 32-bit word,
 * `~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f)` with x = word XOR 0x2c2c2c2c has 0x80 in
 * exactly the bytes that are commas; shifted down, those bits add up in four byte-wide lanes, summed
 * every 127 words (so no lane overflows and the sum stays a small integer). Several times faster
 * than a byte loop on long lines; the byte order does not matter.
 */
export function countCommas(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  let i = start;
  const base = buf.byteOffset;
  while (i < end && ((base + i) & 3) !== 0) {
    if (buf[i] === 44) n++;
    i++;
  }
  const kEnd = (base + end) >>> 2; // words entirely before `end`
  let k = (base + i) >>> 2;
  if (k < kEnd) {
    const w = wordsOf(buf);
    while (k < kEnd) {
      const blockEnd = Math.min(kEnd, k + 127);
      let lanes = 0;
      for (; k < blockEnd; k++) {
        const x = w[k] ^ 0x2c2c2c2c;
        lanes += ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f) >>> 7;
      }
      n += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
    }
    i = kEnd * 4 - base;
  }
  for (; i < end; i++) if (buf[i] === 44) n++;
  return n;
}

/**
 * The same, honouring double quotes: a comma inside `"..."` does not split, `""` inside quotes is a
 * literal quote. Offsets include the quotes (`fieldText` removes them). An unterminated quote runs to the end
 * of the line.
 */
export function splitFieldsQuoted(buf: Uint8Array, start: number, end: number, pos: Int32Array): number {
  const cap = pos.length - 1;
  let n = 0;
  let quoted = false;
  pos[0] = start;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 34) quoted = !quoted;
    else if (c === 44 && !quoted) {
      if (++n < cap) pos[n] = i + 1;
    }
  }
  n++;
  if (n < cap) pos[n] = end + 1;
  return n;
}

/** Text of a field, surrounding spaces and quotes removed, `""` turned into `"` (slow path). */
export function fieldText(buf: Uint8Array, start: number, end: number): string {
  let s = Buffer.from(buf.buffer, buf.byteOffset + start, end - start)
    .toString('latin1')
    .trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).replace(/""/g, '"').trim();
  return s;
}

/** Splits a header line into trimmed, unquoted column names. */
export function headerNames(buf: Uint8Array, start: number, end: number): string[] {
  const pos = new Int32Array(countCommas(buf, start, end) + 3);
  const n = splitFieldsQuoted(buf, start, end, pos);
  const names: string[] = [];
  for (let k = 0; k < n; k++) names.push(fieldText(buf, pos[k], pos[k + 1] - 1));
  if (names.length > 0) names[0] = names[0].replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '');
  return names;
}

/** Moves `start` past spaces and tabs. */
export function skipSpaces(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === 32 || buf[start] === 9)) start++;
  return start;
}

/** Moves `end` back over spaces and tabs. */
export function trimEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === 32 || buf[end - 1] === 9)) end--;
  return end;
}

/** A non-negative decimal integer (ASCII digits only, 1-15 of them), or -1. */
export function parseUint(buf: Uint8Array, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * A packet or byte count: digits (fast path); otherwise (spaces around it, `42680.0`, `1.5e6`) the
 * number the text spells, rounded. -1 when it is not a finite non-negative number.
 */
export function parseCount(buf: Uint8Array, start: number, end: number): number {
  const v = parseUint(buf, start, end);
  if (v >= 0) return v;
  const s = fieldText(buf, start, end);
  if (s === '' || !/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return -1;
  const x = Math.round(Number(s));
  return Number.isFinite(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER ? x : -1;
}

/** A decimal number with optional sign, fraction and exponent (e.g. a duration), or NaN. */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  const s = fieldText(buf, start, end);
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/** A port number: 0-65535 in decimal, or `0x` hex as Argus prints for ICMP; -1 otherwise. */
export function parsePort(buf: Uint8Array, start: number, end: number): number {
  if (end - start > 2 && buf[start] === 48 && (buf[start + 1] === 120 || buf[start + 1] === 88)) {
    let v = 0;
    if (end - start > 6) return -1;
    for (let i = start + 2; i < end; i++) {
      const c = buf[i];
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }
  const v = parseUint(buf, start, end);
  return v <= 65535 ? v : -1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function digits(buf: Uint8Array, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** `YYYY-MM-DD hh:mm:ss` (or `/` between the date parts, `T` before the time) in the 19 bytes at `start`, as UTC ms; NaN if invalid. */
function parseDateTime19(buf: Uint8Array, start: number): number {
  const sep = buf[start + 4];
  if ((sep !== 45 && sep !== 47) || buf[start + 7] !== sep) return NaN;
  const t = buf[start + 10];
  if ((t !== 32 && t !== 84) || buf[start + 13] !== 58 || buf[start + 16] !== 58) return NaN;
  const y = digits(buf, start, 4);
  const mo = digits(buf, start + 5, 2);
  const d = digits(buf, start + 8, 2);
  const h = digits(buf, start + 11, 2);
  const mi = digits(buf, start + 14, 2);
  const s = digits(buf, start + 17, 2);
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > daysInMonth(y, mo) ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 60
  )
    return NaN;
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000;
}

/** Milliseconds of an optional `.fff...` fraction (truncated) and optional `Z` filling `buf[i, end)`; NaN if anything else. */
function parseFractionTail(buf: Uint8Array, i: number, end: number): number {
  let ms = 0;
  if (i < end && buf[i] === 46) {
    i++;
    const fracStart = i;
    let scale = 100;
    while (i < end && buf[i] >= 48 && buf[i] <= 57) {
      ms += (buf[i] - 48) * scale;
      scale /= 10;
      i++;
    }
    if (i === fracStart) return NaN;
    ms = Math.floor(ms);
  }
  if (i < end && buf[i] === 90) i++; // 'Z'
  return i === end ? ms : NaN;
}

/**
 * `YYYY-MM-DD hh:mm:ss[.fff...]` (also `/` between the date parts, `T` before the time, a trailing
 * `Z`), read as UTC: milliseconds since the epoch, the fraction truncated to milliseconds. NaN when
 * the bytes are not such a timestamp or name an impossible date.
 */
export function parseTimestamp(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 19) return NaN;
  const base = parseDateTime19(buf, start);
  if (base !== base) return NaN;
  return base + parseFractionTail(buf, start + 19, end);
}

/**
 * parseTimestamp with a one-entry memo of the date: consecutive flow records mostly share it, and
 * comparing its 10 bytes is cheaper than converting it. Same results as parseTimestamp.
 */
export class TimestampParser {
  private readonly key = new Uint8Array(10);
  private dayMs = NaN;

  /** UTC ms of the `YYYY-MM-DD hh:mm:ss` in the 19 bytes at `start` (the caller checks they exist); NaN if invalid. */
  parse19(buf: Uint8Array, start: number): number {
    const key = this.key;
    let i = 0;
    if (this.dayMs === this.dayMs) while (i < 10 && buf[start + i] === key[i]) i++;
    if (i < 10) {
      const full = parseDateTime19(buf, start);
      if (full !== full) return NaN;
      for (let k = 0; k < 10; k++) key[k] = buf[start + k];
      this.dayMs =
        daysFromCivil(digits(buf, start, 4), digits(buf, start + 5, 2), digits(buf, start + 8, 2)) * 86_400_000;
      return full;
    }
    const t = buf[start + 10];
    if ((t !== 32 && t !== 84) || buf[start + 13] !== 58 || buf[start + 16] !== 58) return NaN;
    const h1 = buf[start + 11] - 48;
    const h2 = buf[start + 12] - 48;
    const m1 = buf[start + 14] - 48;
    const m2 = buf[start + 15] - 48;
    const s1 = buf[start + 17] - 48;
    const s2 = buf[start + 18] - 48;
    // a non-digit gives a value outside 0-9 (negative ones wrap to large under >>> 0)
    if (h1 >>> 0 > 9 || h2 >>> 0 > 9 || m1 >>> 0 > 9 || m2 >>> 0 > 9 || s1 >>> 0 > 9 || s2 >>> 0 > 9) return NaN;
    const h = h1 * 10 + h2;
    const m = m1 * 10 + m2;
    const s = s1 * 10 + s2;
    if (h > 23 || m > 59 || s > 60) return NaN;
    return this.dayMs + (h * 60 + m) * 60_000 + s * 1000;
  }

  /** Same result as parseTimestamp(buf, start, end). */
  parse(buf: Uint8Array, start: number, end: number): number {
    if (end - start < 19) return NaN;
    const base = this.parse19(buf, start);
    return end - start === 19 ? base : base + parseFractionTail(buf, start + 19, end);
  }
}
