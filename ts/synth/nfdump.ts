/**
 * nfdump 1.7 CSV, as `nfdump -r FILE -o csv -q` writes it (Debian's nfdump 1.7.1): 48 columns, `pr`
 * as a protocol name, `flg` as eight characters CEUAPRSF with '.' for a clear bit, times as
 * `YYYY-MM-DD hh:mm:ss` (here in UTC), `td` in seconds with three decimals, `tr` with milliseconds.
 * The columns the generator does not model (interfaces, AS numbers, MACs, MPLS labels, latencies)
 * carry nfdump's own empty values.
 */

export const NFDUMP_COLUMNS = [
  'ts',
  'te',
  'td',
  'sa',
  'da',
  'sp',
  'dp',
  'pr',
  'flg',
  'fwd',
  'stos',
  'ipkt',
  'ibyt',
  'opkt',
  'obyt',
  'in',
  'out',
  'sas',
  'das',
  'smk',
  'dmk',
  'dtos',
  'dir',
  'nh',
  'nhb',
  'svln',
  'dvln',
  'ismc',
  'odmc',
  'idmc',
  'osmc',
  'mpls1',
  'mpls2',
  'mpls3',
  'mpls4',
  'mpls5',
  'mpls6',
  'mpls7',
  'mpls8',
  'mpls9',
  'mpls10',
  'cl',
  'sl',
  'al',
  'ra',
  'eng',
  'exid',
  'tr',
] as const;

export const NFDUMP_HEADER = NFDUMP_COLUMNS.join(',');

/** nfdump's names of the protocols the generator writes (others: the number). */
const PROTO_NAMES: Record<number, string> = {
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMP6',
};

const PROTO_STRINGS = Array.from({ length: 256 }, (_, p) => PROTO_NAMES[p] ?? String(p));

export function protoName(proto: number): string {
  return PROTO_STRINGS[proto & 255];
}

/** Protocol number of an nfdump name or number; -1 when unknown. */
export function protoNumber(name: string): number {
  const t = name.trim();
  for (const [k, v] of Object.entries(PROTO_NAMES)) if (v === t.toUpperCase()) return Number(k);
  return /^\d+$/.test(t) && Number(t) <= 255 ? Number(t) : -1;
}

const FLAG_LETTERS = 'CEUAPRSF';

/** nfdump's flag string: CWR ECE URG ACK PSH RST SYN FIN, '.' where the bit is clear. */
export function flagString(flags: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += flags & (128 >> i) ? FLAG_LETTERS[i] : '.';
  return s;
}

/** Flag byte of an nfdump flag string ('...A..S.' -> 18); -1 when malformed. */
export function parseFlagString(s: string): number {
  const t = s.trim();
  if (t.length !== 8) return -1;
  let f = 0;
  for (let i = 0; i < 8; i++) {
    if (t[i] === FLAG_LETTERS[i]) f |= 128 >> i;
    else if (t[i] !== '.') return -1;
  }
  return f;
}

const FLAG_STRINGS = Array.from({ length: 256 }, (_, f) => flagString(f));

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** `YYYY-MM-DD hh:mm` of an epoch minute. */
export function minutePrefix(epochMinute: number): string {
  const d = new Date(epochMinute * 60_000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/**
 * Formats epoch milliseconds as nfdump times; remembers the last few minutes' prefixes (records of a
 * minute share them), so formatting costs a few string concatenations.
 */
export class TimeFormatter {
  private readonly cache = new Map<number, string>();

  private prefix(minute: number): string {
    let p = this.cache.get(minute);
    if (p === undefined) {
      if (this.cache.size > 16) this.cache.clear();
      p = minutePrefix(minute);
      this.cache.set(minute, p);
    }
    return p;
  }

  /** `YYYY-MM-DD hh:mm:ss` (seconds truncated). */
  seconds(ms: number): string {
    const s = Math.floor(ms / 1000);
    return this.prefix(Math.floor(s / 60)) + ':' + pad2(s % 60);
  }

  /** `YYYY-MM-DD hh:mm:ss.mmm`. */
  millis(ms: number): string {
    const r = ms % 1000;
    return this.seconds(ms) + '.' + (r < 10 ? '00' : r < 100 ? '0' : '') + r;
  }
}

/** The 33 columns after `ibyt` up to `exid`, as nfdump writes them for a record without those fields (opkt, obyt, ..., eng, exid). */
const MIDDLE =
  ',0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,0/0,0,';

/**
 * Flow records in columns, record `i` at index `i` of each (FlowBuffer is one): what a CSV line is
 * written from. Times in epoch ms, `exportMs` after the flow's end; `flags` is the TCP flag byte (0
 * for other protocols); `proto` the IP protocol number.
 */
export interface FlowColumns {
  readonly startMs: ArrayLike<number>;
  readonly durMs: ArrayLike<number>;
  readonly exportMs: ArrayLike<number>;
  readonly src: ArrayLike<string>;
  readonly dst: ArrayLike<string>;
  readonly sp: ArrayLike<number>;
  readonly dp: ArrayLike<number>;
  readonly proto: ArrayLike<number>;
  readonly flags: ArrayLike<number>;
  readonly pkts: ArrayLike<number>;
  readonly bytes: ArrayLike<number>;
}

/** Record `i` of `f` as one CSV line (without the newline). */
export function formatFlowLine(tf: TimeFormatter, f: FlowColumns, i: number): string {
  const startMs = f.startMs[i];
  const durMs = f.durMs[i];
  const endMs = startMs + durMs;
  return (
    tf.seconds(startMs) +
    ',' +
    tf.seconds(endMs) +
    ',' +
    (durMs / 1000).toFixed(3) +
    ',' +
    f.src[i] +
    ',' +
    f.dst[i] +
    ',' +
    f.sp[i] +
    ',' +
    f.dp[i] +
    ',' +
    protoName(f.proto[i]) +
    ',' +
    FLAG_STRINGS[f.flags[i] & 255] +
    ',0,0,' +
    f.pkts[i] +
    ',' +
    f.bytes[i] +
    MIDDLE +
    tf.millis(endMs + f.exportMs[i])
  );
}

const PROTO_BYTES = PROTO_STRINGS.map((s) => Buffer.from(s, 'latin1'));
const FLAG_BYTES = FLAG_STRINGS.map((s) => Buffer.from(s, 'latin1'));
const MIDDLE_BYTES = Buffer.from(MIDDLE, 'latin1');
const ZERO_ZERO = Buffer.from(',0,0,', 'latin1'); // fwd, stos
const C_COMMA = 44;
const C_NL = 10;
const C_COLON = 58;
const C_DOT = 46;
const C_0 = 48;

/**
 * The same lines as formatFlowLine, written as bytes straight into a buffer (no string per line):
 * what the generator uses, several times faster. `take()` hands over the bytes written so far.
 */
export class NfdumpCsvEncoder {
  private buf: Buffer;
  private pos = 0;
  private cacheMinute = [NaN, NaN];
  private cachePrefix = [Buffer.alloc(0), Buffer.alloc(0)];
  private cacheNext = 0;

  constructor(private readonly chunk = 1 << 22) {
    this.buf = Buffer.allocUnsafe(chunk);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written since the last take (a view the encoder no longer touches). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.chunk, this.buf.length));
    this.pos = 0;
    return out;
  }

  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Record `i` of `f`, as formatFlowLine writes it, and a newline. */
  line(f: FlowColumns, i: number): void {
    this.ensure(640);
    const startMs = f.startMs[i];
    const durMs = f.durMs[i];
    const endMs = startMs + durMs;
    this.time(startMs, false);
    this.byte(C_COMMA);
    this.time(endMs, false);
    this.byte(C_COMMA);
    this.uint(Math.floor(durMs / 1000));
    this.byte(C_DOT);
    this.digits3(durMs % 1000);
    this.byte(C_COMMA);
    this.pos += this.buf.write(f.src[i], this.pos, 'latin1');
    this.byte(C_COMMA);
    this.pos += this.buf.write(f.dst[i], this.pos, 'latin1');
    this.byte(C_COMMA);
    this.uint(f.sp[i]);
    this.byte(C_COMMA);
    this.uint(f.dp[i]);
    this.byte(C_COMMA);
    this.copy(PROTO_BYTES[f.proto[i] & 255]);
    this.byte(C_COMMA);
    this.copy(FLAG_BYTES[f.flags[i] & 255]);
    this.copy(ZERO_ZERO);
    this.uint(f.pkts[i]);
    this.byte(C_COMMA);
    this.uint(f.bytes[i]);
    this.copy(MIDDLE_BYTES);
    this.time(endMs + f.exportMs[i], true);
    this.byte(C_NL);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  private byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  private copy(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private uint(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = C_0 + n;
      return;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    for (let x = n; ;) {
      const q = Math.floor(x / 10);
      this.buf[--p] = C_0 + (x - q * 10);
      if (q === 0) break;
      x = q;
    }
  }

  private digits2(n: number): void {
    this.buf[this.pos++] = C_0 + Math.floor(n / 10);
    this.buf[this.pos++] = C_0 + (n % 10);
  }

  private digits3(n: number): void {
    this.buf[this.pos++] = C_0 + Math.floor(n / 100);
    this.buf[this.pos++] = C_0 + (Math.floor(n / 10) % 10);
    this.buf[this.pos++] = C_0 + (n % 10);
  }

  /** `YYYY-MM-DD hh:mm:ss`, and `.mmm` when `millis`. */
  private time(ms: number, millis: boolean): void {
    const s = Math.floor(ms / 1000);
    const minute = Math.floor(s / 60);
    let k = this.cacheMinute[0] === minute ? 0 : this.cacheMinute[1] === minute ? 1 : -1;
    if (k < 0) {
      k = this.cacheNext;
      this.cacheNext ^= 1;
      this.cacheMinute[k] = minute;
      this.cachePrefix[k] = Buffer.from(minutePrefix(minute), 'latin1');
    }
    this.copy(this.cachePrefix[k]);
    this.byte(C_COLON);
    this.digits2(s - minute * 60);
    if (millis) {
      this.byte(C_DOT);
      this.digits3(ms - s * 1000);
    }
  }
}
