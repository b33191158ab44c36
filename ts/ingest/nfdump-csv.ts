/**
 * nfdump 1.7 CSV (`nfdump -r FILE -o csv`): header `ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,
 * opkt,obyt,...`. Columns are located by header name; record lines are parsed straight from the
 * bytes (the hot path of the whole ingestion).
 *
 * - `ts`/`te`: `YYYY-MM-DD hh:mm:ss[.mmm]` in the clock of the machine that ran nfdump: read as UTC
 *   plus `utcOffsetHours`.
 * - `pr`: nfdump's protocol name (`TCP`, `ICMP6`, ...) or a number; unknown name -> `unknown_protocol`.
 * - `flg`: 8 characters `CEUAPRSF` (CWR ECE URG ACK PSH RST SYN FIN), `.` for a clear bit:
 *   `...A..S.` = ACK+SYN = 18. A plain number is accepted too.
 * - `ipkt`/`ibyt` forward (src -> dst), `opkt`/`obyt` reverse (0 unless nfdump aggregated both ways).
 * - A `Summary` line ends the records (the block nfdump prints without `-q`); `No matching flows`
 *   and blank lines are skipped.
 * - A file without a header (`-q`) whose first line is a record is read with nfdump 1.7's columns.
 *
 * The same parser reads the shorter output the nfcapd reader asks for (`fmt`, NFDUMP_FMT): only the
 * 12 fields the features need, as `nfdump -N -6 -o fmt:%ts,%te,...` prints them. Differences from the
 * CSV, all handled here so that the records are the same as from nfdump's full CSV of the same file:
 * fields padded with spaces to a fixed width; `ts`/`te` with milliseconds, dropped (nfdump 1.7.1's
 * CSV prints whole seconds, truncated); `pr` a number (`-N`); `dp` of ICMP as `type.code` (the CSV's
 * `type * 256 + code`); the header a line of titles (`Date first seen ...`); the summary block starts
 * with `Summary:` (a line with commas).
 */
import { canonicalIPv6Cached, parseIPv4Bytes } from './address.js';
import { countCommas, fieldText, parsePort, skipSpaces, splitFields, TimestampParser, trimEnd } from './fields.js';
import { NO_MATCH, parseIcmpTypeCode, parseNfdumpFlags, startsWithBytes, SUMMARY } from './nfdump-fields.js';
import { ProtocolLookup } from './protocols.js';
import { type ReadOptions, type RecordSink } from './record.js';
import { columnFinder, columnIndex, ParserBase, shown, type RecordLineParser } from './text-records.js';

// column roles of the fast path; numbers from R_SP on are plain unsigned integers
const R_SKIP = 0;
const R_TS = 1;
const R_TE = 2;
const R_SA = 3;
const R_DA = 4;
const R_PR = 5;
const R_FLG = 6;
const R_SP = 7;
const R_DP = 8;
const R_IPKT = 9;
const R_IBYT = 10;
const R_OPKT = 11;
const R_OBYT = 12;

/** Parses the record lines of one nfdump CSV stream with a given column list. */
export class NfdumpCsvParser extends ParserBase implements RecordLineParser {
  private readonly ncols: number;
  private readonly iTs: number;
  private readonly iTe: number;
  private readonly iSa: number;
  private readonly iDa: number;
  private readonly iSp: number;
  private readonly iDp: number;
  private readonly iPr: number;
  private readonly iFlg: number;
  private readonly iIpkt: number;
  private readonly iIbyt: number;
  private readonly iOpkt: number;
  private readonly iObyt: number;
  /** Fields before this one are parsed; the rest are only counted. */
  private readonly wanted: number;
  /** What each of the first `wanted` columns is (R_*). */
  private readonly roles: Uint8Array;
  private readonly protocols = new ProtocolLookup('nfdump');
  private readonly tsParser = new TimestampParser();
  private readonly teParser = new TimestampParser();
  private ended = false;
  /** The line with its fields' padding removed, for the checked path of `fmt` output. */
  private compact: Buffer = Buffer.alloc(0);
  /** Only the times are wanted (ReadOptions.timesOnly): lines take fastTimes, not fast. */
  private readonly timesOnly: boolean;
  /** Where the last time() stopped: the comma after the field, or `end`. */
  private after = 0;

  /**
   * @param columns the header's column names
   * @param headerLine line number of the header, for errors about it
   * @param applyOffset false when the times are already UTC (nfcapd read through nfdump with TZ=UTC)
   * @param fmt the lines are NFDUMP_FMT output (padded fields, ICMP `type.code`, whole seconds kept)
   */
  constructor(
    columns: readonly string[],
    sink: RecordSink,
    file: string,
    headerLine: number,
    opts: ReadOptions | undefined,
    applyOffset = true,
    private readonly fmt = false,
  ) {
    super(sink, file, applyOffset ? opts : { ...opts, utcOffsetHours: 0 }, columns.length);
    this.timesOnly = Boolean(opts?.timesOnly);
    // the nfcapd reader's times-only output (NFDUMP_TIMES_FMT) has the times alone; a file's header must have every column
    const needed = columnFinder(columns, file, headerLine, 'nfdump CSV', true);
    const need = fmt && this.timesOnly ? (name: string) => columnIndex(columns, name) : needed;
    this.ncols = columns.length;
    this.iTs = needed('ts');
    this.iSa = need('sa');
    this.iDa = need('da');
    this.iSp = need('sp');
    this.iDp = need('dp');
    this.iPr = need('pr');
    this.iIpkt = need('ipkt');
    this.iIbyt = need('ibyt');
    this.iTe = columnIndex(columns, 'te');
    this.iFlg = columnIndex(columns, 'flg');
    this.iOpkt = columnIndex(columns, 'opkt');
    this.iObyt = columnIndex(columns, 'obyt');
    // prettier-ignore
    const roleOf: [number, number][] = [
      [this.iTs, R_TS], [this.iTe, R_TE], [this.iSa, R_SA], [this.iDa, R_DA], [this.iPr, R_PR], [this.iFlg, R_FLG],
      [this.iSp, R_SP], [this.iDp, R_DP], [this.iIpkt, R_IPKT], [this.iIbyt, R_IBYT], [this.iOpkt, R_OPKT],
      [this.iObyt, R_OBYT],
    ];
    this.wanted = 1 + Math.max(...roleOf.map(([i]) => i));
    this.roles = new Uint8Array(this.wanted);
    for (const [i, role] of roleOf) if (i >= 0) this.roles[i] = role;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void {
    if (this.ended) return;
    this.loc.line = lineNo;
    if (this.timesOnly ? this.fastTimes(buf, start, end) : this.fast(buf, start, end))
      this.sink.record(this.rec, this.loc);
    else this.checked(buf, start, end, terminated);
  }

  /**
   * The fast path: one pass over the useful columns, each parsed where it stands (no second scan),
   * then the commas of the rest counted four bytes at a time. Accepts only well-formed lines, with
   * exactly the result the checked path would give; on anything unusual it returns false and the
   * checked path parses the line again and says what is wrong.
   */
  private fast(buf: Buffer, start: number, end: number): boolean {
    const roles = this.roles;
    const rec = this.rec;
    const off = this.offsetMs;
    const fmt = this.fmt;
    let i = start;
    for (let k = 0; k < this.wanted; k++) {
      if (i > end) return false; // fewer fields than the header
      if (fmt) while (i < end && buf[i] === 32) i++;
      let j = i;
      const role = roles[k];
      if (role === R_SKIP) {
        while (j < end && buf[j] !== 44) j++;
      } else if (role >= R_SP) {
        // a number: ports and counts
        let v = 0;
        for (; j < end; j++) {
          const d = buf[j] - 48;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
        if (j === i || j - i > 15) return false;
        if (fmt) {
          if (role === R_DP && j < end && buf[j] === 46) {
            // ICMP type.code
            if (v > 255) return false;
            let code = 0;
            const c0 = ++j;
            for (; j < end; j++) {
              const d = buf[j] - 48;
              if (d < 0 || d > 9) break;
              code = code * 10 + d;
            }
            if (j === c0 || j - c0 > 3 || code > 255) return false;
            v = v * 256 + code;
          }
          while (j < end && buf[j] === 32) j++;
        }
        if (j < end && buf[j] !== 44) return false;
        if (role === R_SP) {
          if (v > 65535) return false;
          rec.sp = v;
        } else if (role === R_DP) {
          if (v > 65535) return false;
          rec.dp = v;
        } else if (role === R_IPKT) rec.pkts = v;
        else if (role === R_IBYT) rec.bytes = v;
        else if (role === R_OPKT) rec.rpkts = v;
        else rec.rbytes = v;
      } else if (role === R_SA || role === R_DA) {
        // IPv4 in one pass; anything else (IPv6) through the text path
        let v = 0;
        let part = 0;
        let digits = 0;
        let dots = 0;
        for (; j < end; j++) {
          const c = buf[j];
          if (c >= 48 && c <= 57) {
            if (digits === 1 && part === 0) break;
            part = part * 10 + (c - 48);
            digits++;
          } else if (c === 46) {
            if (digits === 0 || digits > 3 || part > 255) break;
            v = v * 256 + part;
            part = 0;
            digits = 0;
            dots++;
          } else break;
        }
        if (fmt) while (j < end && buf[j] === 32) j++;
        if ((j === end || buf[j] === 44) && dots === 3 && digits > 0 && digits <= 3 && part <= 255) {
          v = v * 256 + part;
          if (role === R_SA) {
            rec.src4 = v;
            rec.src6 = '';
          } else {
            rec.dst4 = v;
            rec.dst6 = '';
          }
        } else {
          while (j < end && buf[j] !== 44) j++;
          let e = j;
          if (fmt) while (e > i && buf[e - 1] === 32) e--;
          const v6 = canonicalIPv6Cached(buf.toString('latin1', i, e));
          if (v6 === null) return false;
          if (role === R_SA) {
            rec.src4 = -1;
            rec.src6 = v6;
          } else {
            rec.dst4 = -1;
            rec.dst6 = v6;
          }
        }
      } else if (role === R_TS || role === R_TE) {
        const t = this.time(buf, i, end, role === R_TS ? this.tsParser : this.teParser);
        if (t !== t) return false;
        j = this.after;
        if (role === R_TS) rec.startMs = t + off;
        else rec.endMs = t + off;
      } else {
        while (j < end && buf[j] !== 44) j++;
        let e = j;
        if (fmt) while (e > i && buf[e - 1] === 32) e--;
        if (role === R_PR) {
          const proto = this.protocols.lookup(buf, i, e);
          if (proto < 0) return false;
          rec.proto = proto;
        } else {
          const flags = parseNfdumpFlags(buf, i, e);
          if (flags < 0) return false;
          rec.flags = flags;
        }
      }
      i = j + 1;
    }
    // i: start of the first column not parsed, or end + 1 when there is none
    const fields = i > end ? this.wanted : this.wanted + 1 + countCommas(buf, i, end);
    if (fields !== this.ncols) return false;
    if (this.iTe < 0) rec.endMs = NaN;
    if (this.iFlg < 0) rec.flags = -1;
    if (this.iOpkt < 0) rec.rpkts = 0;
    if (this.iObyt < 0) rec.rbytes = 0;
    rec.rflags = -1;
    return true;
  }

  /**
   * The fast path's time field at `i` (its padding skipped): UTC ms before the offset, or NaN when
   * it is not `YYYY-MM-DD hh:mm:ss[.fff]` followed by a comma or the line's end. Sets `after`.
   */
  private time(buf: Buffer, i: number, end: number, parser: TimestampParser): number {
    if (end - i < 19) return NaN;
    const base = parser.parse19(buf, i);
    if (base !== base) return NaN;
    let j = i + 19;
    let ms = 0;
    if (j < end && buf[j] === 46) {
      let scale = 100;
      j++;
      const f = j;
      for (; j < end; j++) {
        const d = buf[j] - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
      }
      if (j === f) return NaN;
      ms = this.fmt ? 0 : Math.floor(ms);
    }
    if (this.fmt) while (j < end && buf[j] === 32) j++;
    if (j < end && buf[j] !== 44) return NaN;
    this.after = j;
    return base + ms;
  }

  /**
   * The first pass's path (ReadOptions.timesOnly): the start and end times of a line with the
   * header's number of fields, the other fields left unparsed (the second pass checks them); false
   * sends the line through the checked path (a bad or missing time, a wrong field count, a `Summary`
   * line), as in a full read.
   */
  private fastTimes(buf: Buffer, start: number, end: number): boolean {
    const rec = this.rec;
    const fmt = this.fmt;
    let i = start;
    const last = Math.max(this.iTs, this.iTe);
    for (let k = 0; k <= last; k++) {
      if (i > end) return false;
      if (fmt) while (i < end && buf[i] === 32) i++;
      let j: number;
      if (k === this.iTs || k === this.iTe) {
        const t = this.time(buf, i, end, k === this.iTs ? this.tsParser : this.teParser);
        if (t !== t) return false;
        if (k === this.iTs) rec.startMs = t + this.offsetMs;
        else rec.endMs = t + this.offsetMs;
        j = this.after;
      } else {
        j = i;
        while (j < end && buf[j] !== 44) j++;
      }
      i = j + 1;
    }
    // i: start of the first field not read, or end + 1 when there is none
    const fields = i > end ? last + 1 : last + 2 + countCommas(buf, i, end);
    if (fields !== this.ncols) return false;
    if (this.iTe < 0) rec.endMs = NaN;
    return true;
  }

  /**
   * The checked path's source (`which` 0) or destination (1) address from column c: IPv4 from the
   * bytes, else IPv6 from the field's text. Reports `bad_address` naming `field` and returns false.
   */
  private checkedAddress(which: 0 | 1, c: number, field: string, buf: Buffer, terminated: boolean): boolean {
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    const v4 = parseIPv4Bytes(buf, a, b);
    let v6 = '';
    if (v4 < 0) {
      const text = fieldText(buf, a, b);
      const canonical = canonicalIPv6Cached(text);
      if (canonical === null) {
        this.bad(terminated, 'bad_address', field, `${shown(text)} is not an IPv4 or IPv6 address`);
        return false;
      }
      v6 = canonical;
    }
    this.setAddress(which, v4, v6);
    return true;
  }

  /** The checked path's time (UTC ms, offset applied) from column c; reports `bad_timestamp` and returns NaN. */
  private checkedTime(parser: TimestampParser, c: number, field: string, buf: Buffer, terminated: boolean): number {
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    let t = parser.parse(buf, a, b);
    if (t !== t)
      this.bad(terminated, 'bad_timestamp', field, `${shown(fieldText(buf, a, b))} is not YYYY-MM-DD hh:mm:ss[.mmm]`);
    if (this.fmt) t = Math.floor(t / 1000) * 1000;
    return t + this.offsetMs;
  }

  /** The checked path's port (0-65535) from column c; reports `bad_port` naming `field` and returns -1. */
  private checkedPort(c: number, field: string, buf: Buffer, terminated: boolean): number {
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    let port = parsePort(buf, a, b);
    if (port < 0 && this.fmt && field === 'dp') port = parseIcmpTypeCode(buf, a, b);
    if (port < 0)
      this.bad(
        terminated,
        'bad_port',
        field,
        `${shown(fieldText(buf, a, b))} is not a port number (0-65535)${this.fmt && field === 'dp' ? ' or an ICMP type.code' : ''}`,
      );
    return port;
  }

  /** Copies the line into `compact` with the spaces around each field removed; returns its length. */
  private unpad(buf: Buffer, start: number, end: number): number {
    if (this.compact.length < end - start) this.compact = Buffer.alloc(2 * (end - start));
    const out = this.compact;
    let n = 0;
    let i = start;
    while (i <= end) {
      let j = i;
      while (j < end && buf[j] !== 44) j++;
      const a = skipSpaces(buf, i, j);
      const b = trimEnd(buf, a, j);
      if (i > start) out[n++] = 44;
      n += buf.copy(out, n, a, b);
      i = j + 1;
    }
    return n;
  }

  /** The checked path: parses a line field by field and reports the first problem. */
  private checked(buf: Buffer, start: number, end: number, terminated: boolean): void {
    if (this.fmt) {
      if (startsWithBytes(buf, start, end, SUMMARY)) {
        this.ended = true;
        return;
      }
      end = this.unpad(buf, start, end);
      buf = this.compact;
      start = 0;
    }
    const pos = this.pos;
    const n = splitFields(buf, start, end, pos);
    if (n !== this.ncols) {
      if (n === 1 && startsWithBytes(buf, start, end, SUMMARY)) this.ended = true;
      else if (n === 1 && startsWithBytes(buf, start, end, NO_MATCH)) return;
      else this.fieldCount(terminated, this.ncols, n);
      return;
    }
    const rec = this.rec;
    const ts = this.checkedTime(this.tsParser, this.iTs, 'ts', buf, terminated);
    if (ts !== ts) return;
    rec.startMs = ts;
    rec.endMs = this.iTe >= 0 ? this.checkedTime(this.teParser, this.iTe, 'te', buf, terminated) : NaN;
    if (this.iTe >= 0 && rec.endMs !== rec.endMs) return;
    if (this.timesOnly) return this.sink.record(rec, this.loc);

    if (!this.checkedAddress(0, this.iSa, 'sa', buf, terminated)) return;
    if (!this.checkedAddress(1, this.iDa, 'da', buf, terminated)) return;
    if ((rec.sp = this.checkedPort(this.iSp, 'sp', buf, terminated)) < 0) return;
    if ((rec.dp = this.checkedPort(this.iDp, 'dp', buf, terminated)) < 0) return;

    let a = pos[this.iPr];
    let b = pos[this.iPr + 1] - 1;
    const proto = this.protocols.lookup(buf, a, b);
    if (proto < 0)
      return this.bad(terminated, 'unknown_protocol', 'pr', `unknown protocol ${shown(fieldText(buf, a, b))}`);
    rec.proto = proto;

    if (this.iFlg >= 0) {
      a = pos[this.iFlg];
      b = pos[this.iFlg + 1] - 1;
      const flags = parseNfdumpFlags(buf, a, b);
      if (flags < 0)
        return this.bad(
          terminated,
          'malformed_line',
          'flg',
          `${shown(fieldText(buf, a, b))} is not a TCP flag string like ...A..S.`,
        );
      rec.flags = flags;
    } else {
      rec.flags = -1;
    }
    rec.rflags = -1;

    if ((rec.pkts = this.countAt(this.iIpkt, buf, terminated, 'ipkt', 'packet')) < 0) return;
    if ((rec.bytes = this.countAt(this.iIbyt, buf, terminated, 'ibyt', 'byte')) < 0) return;
    if ((rec.rpkts = this.countAt(this.iOpkt, buf, terminated, 'opkt', 'packet')) < 0) return;
    if ((rec.rbytes = this.countAt(this.iObyt, buf, terminated, 'obyt', 'byte')) < 0) return;
    this.sink.record(rec, this.loc);
  }
}
