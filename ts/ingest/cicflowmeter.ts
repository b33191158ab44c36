/**
 * CICFlowMeter CSV (CIC-IDS2017/2018, CIC-DDoS2019): about 85 columns, names often with a leading
 * space (` Source IP`), sometimes an unnamed index column first (pandas exports). Columns are located
 * by their trimmed names (CICFlowMeter 4's short names `Src IP`, `Tot Fwd Pkts`, ... work too).
 *
 * Our readings (docs/ingest.md):
 * - A CIC flow is bidirectional: forward = `Total Fwd Packets` / `Total Length of Fwd Packets`
 *   (src -> dst), reverse = `Total Backward Packets` / `Total Length of Bwd Packets`.
 * - Flags: CIC counts packets carrying each flag over the whole flow (`FIN Flag Count`, ...,
 *   `CWE Flag Count` = CWR, `ECE Flag Count`) without saying in which direction; a bit is set
 *   when its count is > 0 and attributed to the forward direction; rflags = -1 (unknown).
 * - `Timestamp` `2018-12-01 10:51:39.813448` or CICFlowMeter's `01/12/2018 10:51:39 AM` / `3/7/2017 8:55`
 *   (day first), no zone: read as UTC + utcOffsetHours. End = start + `Flow Duration` microseconds.
 * - Protocol is a number.
 */
import { daysFromCivil, fieldText, parseCount, parseDecimal, parseTimestamp, skipSpaces, trimEnd } from './fields.js';
import type { FlowReader } from './record.js';
import {
  columnIndex,
  HeaderParser,
  headerReader,
  shown,
  type HeaderArgs,
  type RecordLineParser,
} from './text-records.js';

/** Flag count columns and the bit each sets. */
const FLAG_COLUMNS: [string[], number][] = [
  [['FIN Flag Count', 'FIN Flag Cnt'], 1],
  [['SYN Flag Count', 'SYN Flag Cnt'], 2],
  [['RST Flag Count', 'RST Flag Cnt'], 4],
  [['PSH Flag Count', 'PSH Flag Cnt'], 8],
  [['ACK Flag Count', 'ACK Flag Cnt'], 16],
  [['URG Flag Count', 'URG Flag Cnt'], 32],
  [['ECE Flag Count', 'ECE Flag Cnt'], 64],
  [['CWE Flag Count', 'CWR Flag Count', 'CWE Flag Cnt'], 128],
];

/**
 * CICFlowMeter's own timestamp form `D/M/YYYY h:mm[:ss][ AM|PM]` (day first, as its Java
 * `dd/MM/yyyy hh:mm:ss a`), as UTC ms; NaN when the text is not one.
 */
export function parseDayFirstTimestamp(text: string): number {
  const m =
    /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:\s*([AaPp][Mm]))?$/.exec(
      text.trim(),
    );
  if (!m) return NaN;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (m[8]) {
    if (h < 1 || h > 12) return NaN;
    const pm = m[8].toLowerCase() === 'pm';
    h = (h % 12) + (pm ? 12 : 0);
  }
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || s > 60) return NaN;
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + ms;
}

/** The columns a record needs: CICFlowMeter's names, then CSE-CIC-IDS2018's short ones. */
// prettier-ignore
const NEEDED = {
  src: ['Source IP', 'Src IP'], dst: ['Destination IP', 'Dst IP'],
  sport: ['Source Port', 'Src Port'], dport: ['Destination Port', 'Dst Port'], proto: 'Protocol', time: 'Timestamp',
  fwdPkts: ['Total Fwd Packets', 'Tot Fwd Pkts'], bwdPkts: ['Total Backward Packets', 'Tot Bwd Pkts'],
  fwdBytes: ['Total Length of Fwd Packets', 'TotLen Fwd Pkts'], bwdBytes: ['Total Length of Bwd Packets', 'TotLen Bwd Pkts'],
} as const;

class CicParser extends HeaderParser implements RecordLineParser {
  private readonly c: Readonly<Record<keyof typeof NEEDED | 'dur', number>>;
  private readonly flagCols: Int32Array;
  private readonly flagBits: Int32Array;

  constructor(...args: HeaderArgs) {
    super(args, 'CICFlowMeter CSV');
    const names = this.names;
    this.c = this.locate(NEEDED, { dur: 'Flow Duration' });
    const cols: number[] = [];
    const bits: number[] = [];
    for (const [candidates, bit] of FLAG_COLUMNS) {
      const i = columnIndex(names, ...candidates);
      if (i >= 0) {
        cols.push(i);
        bits.push(bit);
      }
    }
    this.flagCols = Int32Array.from(cols);
    this.flagBits = Int32Array.from(bits);
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void {
    if (!this.splitLine(buf, start, end, lineNo, terminated)) return;
    const pos = this.pos;
    const rec = this.rec;
    const names = this.names;

    let c = this.c.time;
    const a = skipSpaces(buf, pos[c], pos[c + 1] - 1);
    const b = trimEnd(buf, a, pos[c + 1] - 1);
    let t = parseTimestamp(buf, a, b);
    if (t !== t) t = parseDayFirstTimestamp(fieldText(buf, a, b));
    if (t !== t)
      return this.bad(
        terminated,
        'bad_timestamp',
        names[c],
        `${shown(fieldText(buf, a, b))} is not YYYY-MM-DD hh:mm:ss[.ffffff] or D/M/YYYY h:mm[:ss] [AM|PM]`,
      );
    rec.startMs = t + this.offsetMs;
    rec.endMs = NaN;
    if (this.c.dur >= 0) {
      const dur = parseDecimal(buf, pos[this.c.dur], pos[this.c.dur + 1] - 1); // microseconds
      if (dur >= 0) rec.endMs = rec.startMs + Math.round(dur / 1000);
    }

    if (!this.endpoints(buf, terminated, this.c)) return;

    if ((rec.pkts = this.countAt(this.c.fwdPkts, buf, terminated, names[this.c.fwdPkts], 'packet')) < 0) return;
    if ((rec.bytes = this.countAt(this.c.fwdBytes, buf, terminated, names[this.c.fwdBytes], 'byte')) < 0) return;
    if ((rec.rpkts = this.countAt(this.c.bwdPkts, buf, terminated, names[this.c.bwdPkts], 'packet')) < 0) return;
    if ((rec.rbytes = this.countAt(this.c.bwdBytes, buf, terminated, names[this.c.bwdBytes], 'byte')) < 0) return;

    let flags = this.flagCols.length > 0 ? 0 : -1;
    for (let k = 0; k < this.flagCols.length; k++) {
      c = this.flagCols[k];
      const count = parseCount(buf, pos[c], pos[c + 1] - 1);
      if (count < 0)
        return this.bad(
          terminated,
          'malformed_line',
          names[c],
          `${shown(fieldText(buf, pos[c], pos[c + 1] - 1))} is not a count`,
        );
      if (count > 0) flags |= this.flagBits[k];
    }
    rec.flags = flags;
    rec.rflags = -1;
    this.sink.record(rec, this.loc);
  }
}

export const cicflowmeterReader: FlowReader = headerReader('cicflowmeter', (...a) => new CicParser(...a));
