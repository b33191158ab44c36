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
import { fieldText, parseCount, parseDecimal, splitFieldsQuoted } from './fields.js';
import { InputError, type FlowReader } from './record.js';
import {
  columnIndex,
  HeaderParser,
  headerReader,
  shown,
  type HeaderArgs,
  type RecordLineParser,
} from './text-records.js';

class NfV9Parser extends HeaderParser implements RecordLineParser {
  private readonly iSrc: number;
  private readonly iDst: number;
  private readonly iSport: number;
  private readonly iDport: number;
  private readonly iProto: number;
  private readonly iInBytes: number;
  private readonly iInPkts: number;
  private readonly iOutBytes: number;
  private readonly iOutPkts: number;
  private readonly iFlags: number;
  private readonly iClientFlags: number;
  private readonly iServerFlags: number;
  private readonly iStart: number;
  private readonly iEnd: number;
  private readonly iDur: number;

  constructor(...args: HeaderArgs) {
    super(args, 'NetFlow v9 CSV');
    const names = this.names;
    const need = this.need;
    const [, , file, headerLine] = args;
    this.iStart = columnIndex(names, 'FLOW_START_MILLISECONDS');
    if (this.iStart < 0) {
      throw new InputError(
        'format',
        { file, line: headerLine },
        'FLOW_START_MILLISECONDS',
        'this NetFlow v9 CSV has no timestamp column (FLOW_START_MILLISECONDS): the NF-*-v1/v2 datasets carry no flow times, so their flows cannot be placed in minutes; use a v3 dataset (NF-*-v3 has FLOW_START_MILLISECONDS)',
      );
    }
    this.iSrc = need('IPV4_SRC_ADDR', 'IPV6_SRC_ADDR');
    this.iDst = need('IPV4_DST_ADDR', 'IPV6_DST_ADDR');
    this.iSport = need('L4_SRC_PORT');
    this.iDport = need('L4_DST_PORT');
    this.iProto = need('PROTOCOL');
    this.iInBytes = need('IN_BYTES');
    this.iInPkts = need('IN_PKTS');
    this.iOutBytes = columnIndex(names, 'OUT_BYTES');
    this.iOutPkts = columnIndex(names, 'OUT_PKTS');
    this.iFlags = columnIndex(names, 'TCP_FLAGS');
    this.iClientFlags = columnIndex(names, 'CLIENT_TCP_FLAGS');
    this.iServerFlags = columnIndex(names, 'SERVER_TCP_FLAGS');
    this.iEnd = columnIndex(names, 'FLOW_END_MILLISECONDS');
    this.iDur = columnIndex(names, 'FLOW_DURATION_MILLISECONDS');
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
    this.loc.line = lineNo;
    const pos = this.pos;
    const n = splitFieldsQuoted(buf, start, end, pos);
    if (n !== this.ncols) return this.fieldCount(terminated, this.ncols, n);
    const rec = this.rec;
    const names = this.names;

    const t = this.epochMs(this.iStart, buf, terminated);
    if (t < 0) return;
    rec.startMs = t;
    rec.endMs = NaN;
    if (this.iEnd >= 0) {
      if ((rec.endMs = this.epochMs(this.iEnd, buf, terminated)) < 0) return;
    } else if (this.iDur >= 0) {
      const d = parseDecimal(buf, pos[this.iDur], pos[this.iDur + 1] - 1);
      if (d >= 0) rec.endMs = t + Math.round(d);
    }

    if (!this.endpoints(buf, names, terminated, this.iSrc, this.iDst, this.iSport, this.iDport, this.iProto)) return;

    if ((rec.bytes = this.countAt(this.iInBytes, buf, terminated, names[this.iInBytes], 'byte')) < 0) return;
    if ((rec.pkts = this.countAt(this.iInPkts, buf, terminated, names[this.iInPkts], 'packet')) < 0) return;
    if ((rec.rbytes = this.countAt(this.iOutBytes, buf, terminated, names[this.iOutBytes], 'byte')) < 0) return;
    if ((rec.rpkts = this.countAt(this.iOutPkts, buf, terminated, names[this.iOutPkts], 'packet')) < 0) return;

    if (this.iClientFlags >= 0) {
      if ((rec.flags = this.flagByte(this.iClientFlags, buf, terminated)) === -2) return;
      if ((rec.rflags = this.flagByte(this.iServerFlags, buf, terminated)) === -2) return;
    } else {
      if ((rec.flags = this.flagByte(this.iFlags, buf, terminated)) === -2) return;
      rec.rflags = -1;
    }
    this.sink.record(rec, this.loc);
  }
}

export const nfV9Reader: FlowReader = headerReader('nf-v9', (...a) => new NfV9Parser(...a));
