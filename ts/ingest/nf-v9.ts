/**
 * NetFlow-v9-style CSV of the public NF-* datasets (Sarhan et al.: NF-UNSW-NB15, NF-CSE-CIC-IDS2018,
 * NF-ToN-IoT, ...; nProbe field names): IPV4_SRC_ADDR, L4_SRC_PORT, IPV4_DST_ADDR, L4_DST_PORT,
 * PROTOCOL, L7_PROTO, IN_BYTES, IN_PKTS, OUT_BYTES, OUT_PKTS, TCP_FLAGS, CLIENT_TCP_FLAGS,
 * SERVER_TCP_FLAGS, FLOW_DURATION_MILLISECONDS, ..., Label, Attack. Located by header name.
 *
 * Our readings (docs/ingest.md):
 * - IN_* = src -> dst (forward), OUT_* = dst -> src (reverse).
 * - Flags: CLIENT_TCP_FLAGS -> flags and SERVER_TCP_FLAGS -> rflags when present (v2/v3), else
 *   the cumulative TCP_FLAGS -> flags (rflags -1).
 * - Time: only the v3 datasets carry FLOW_START_MILLISECONDS (epoch ms, UTC: utcOffsetHours does not
 *   apply); end = FLOW_END_MILLISECONDS, else start + FLOW_DURATION_MILLISECONDS. The v1/v2 files
 *   have no timestamps at all: a flow without a time cannot be placed in a minute, so such a file is
 *   refused with a format error.
 * - IPV6_SRC_ADDR / IPV6_DST_ADDR are used when the IPv4 columns are absent.
 */
import { fieldText, parseCount, parseDecimal } from './fields.js';
import { InputError, type FlowReader } from './record.js';
import { HeaderParser, headerReader, shown, type HeaderArgs, type RecordLineParser } from './text-records.js';

/** The columns a record needs (the IPv6 ones where the IPv4 ones are absent), then the optional ones. */
// prettier-ignore
const NEEDED = {
  src: ['IPV4_SRC_ADDR', 'IPV6_SRC_ADDR'], dst: ['IPV4_DST_ADDR', 'IPV6_DST_ADDR'],
  sport: 'L4_SRC_PORT', dport: 'L4_DST_PORT', proto: 'PROTOCOL', inBytes: 'IN_BYTES', inPkts: 'IN_PKTS',
} as const;
// prettier-ignore
const OPTIONAL = {
  outBytes: 'OUT_BYTES', outPkts: 'OUT_PKTS',
  flags: 'TCP_FLAGS', clientFlags: 'CLIENT_TCP_FLAGS', serverFlags: 'SERVER_TCP_FLAGS',
  end: 'FLOW_END_MILLISECONDS', dur: 'FLOW_DURATION_MILLISECONDS',
} as const;

class NfV9Parser extends HeaderParser implements RecordLineParser {
  private readonly c: Readonly<Record<keyof typeof NEEDED | keyof typeof OPTIONAL | 'start', number>>;

  constructor(...args: HeaderArgs) {
    super(args, 'NetFlow v9 CSV');
    const [, , file, headerLine] = args;
    // Before the other columns: the one a v1/v2 file lacks, with its own message.
    const { start } = this.locate({}, { start: 'FLOW_START_MILLISECONDS' });
    if (start < 0) {
      throw new InputError(
        'format',
        { file, line: headerLine },
        'FLOW_START_MILLISECONDS',
        'this NetFlow v9 CSV has no timestamp column (FLOW_START_MILLISECONDS): the NF-*-v1/v2 datasets carry no flow times, so their flows cannot be placed in minutes; use a v3 dataset (NF-*-v3 has FLOW_START_MILLISECONDS)',
      );
    }
    this.c = { ...this.locate(NEEDED, OPTIONAL), start };
  }

  /** Epoch milliseconds from column c; reports `bad_timestamp` and returns -1 when the field is none. */
  private epochMs(c: number, buf: Buffer, terminated: boolean): number {
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    const t = parseCount(buf, a, b);
    if (t < 0)
      this.bad(terminated, 'bad_timestamp', this.names[c], `${shown(fieldText(buf, a, b))} is not epoch milliseconds`);
    return t;
  }

  /** A TCP flag byte column (0-255); -1 when absent. Reports and returns -2 when bad. */
  private flagByte(c: number, buf: Buffer, terminated: boolean): number {
    if (c < 0) return -1;
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    const v = parseCount(buf, a, b);
    if (v < 0 || v > 255) {
      this.bad(
        terminated,
        'malformed_line',
        this.names[c],
        `${shown(fieldText(buf, a, b))} is not a TCP flag byte (0-255)`,
      );
      return -2;
    }
    return v;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void {
    if (!this.splitLine(buf, start, end, lineNo, terminated)) return;
    const pos = this.pos;
    const rec = this.rec;
    const names = this.names;

    const t = this.epochMs(this.c.start, buf, terminated);
    if (t < 0) return;
    rec.startMs = t;
    rec.endMs = NaN;
    if (this.c.end >= 0) {
      if ((rec.endMs = this.epochMs(this.c.end, buf, terminated)) < 0) return;
    } else if (this.c.dur >= 0) {
      const d = parseDecimal(buf, pos[this.c.dur], pos[this.c.dur + 1] - 1);
      if (d >= 0) rec.endMs = t + Math.round(d);
    }

    if (!this.endpoints(buf, terminated, this.c)) return;

    if ((rec.bytes = this.countAt(this.c.inBytes, buf, terminated, names[this.c.inBytes], 'byte')) < 0) return;
    if ((rec.pkts = this.countAt(this.c.inPkts, buf, terminated, names[this.c.inPkts], 'packet')) < 0) return;
    if ((rec.rbytes = this.countAt(this.c.outBytes, buf, terminated, names[this.c.outBytes], 'byte')) < 0) return;
    if ((rec.rpkts = this.countAt(this.c.outPkts, buf, terminated, names[this.c.outPkts], 'packet')) < 0) return;

    if (this.c.clientFlags >= 0) {
      if ((rec.flags = this.flagByte(this.c.clientFlags, buf, terminated)) === -2) return;
      if ((rec.rflags = this.flagByte(this.c.serverFlags, buf, terminated)) === -2) return;
    } else {
      if ((rec.flags = this.flagByte(this.c.flags, buf, terminated)) === -2) return;
      rec.rflags = -1;
    }
    this.sink.record(rec, this.loc);
  }
}

export const nfV9Reader: FlowReader = headerReader('nf-v9', (...a) => new NfV9Parser(...a));
