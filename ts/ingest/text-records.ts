/**
 * The shared shell of the text readers: the first non-blank line is the header, which picks a line
 * parser; every later non-blank line is a record for that parser. Also the common way a parser
 * reports a bad record, so that a cut-short last line is always counted as `truncated_line`.
 */
import { canonicalIPv6Cached, parseIPv4Bytes } from './address.js';
import { fieldText, headerNames, parseCount, parsePort, skipSpaces, splitFieldsQuoted, trimEnd } from './fields.js';
import { readLines, type LineHandler } from './lines.js';
import {
  emptyRecord,
  InputError,
  type FlowReader,
  type FlowRecord,
  type InputFormat,
  type ReadOptions,
  type RecordSink,
  type RejectReason,
  type SourceLocation,
} from './record.js';

/** Parses record lines of one file; built from its header. */
export interface RecordLineParser {
  line(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void;
}

/**
 * Builds the parser from the first non-blank line (usually the header). `firstLineIsData` says that
 * line is a record too (a header-less file whose columns are known).
 */
export type ParserFactory = (
  buf: Buffer,
  start: number,
  end: number,
  lineNo: number,
) => { parser: RecordLineParser; firstLineIsData: boolean };

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

/** A LineHandler that skips blank lines and feeds the rest to the parser the header chose. */
export function recordLineHandler(makeParser: ParserFactory): LineHandler {
  let parser: RecordLineParser | null = null;
  return (buf, start, end, lineNo, terminated) => {
    if (start === end || ((buf[start] === 32 || buf[start] === 9) && isBlank(buf, start, end))) return;
    if (parser !== null) {
      parser.line(buf, start, end, lineNo, terminated);
      return;
    }
    const made = makeParser(buf, start, end, lineNo);
    parser = made.parser;
    if (made.firstLineIsData) parser.line(buf, start, end, lineNo, terminated);
  };
}

/** Reads a text flow file (plain or gzip) through a parser factory. */
export async function readTextFile(
  path: string,
  sink: RecordSink,
  opts: ReadOptions | undefined,
  makeParser: ParserFactory,
): Promise<void> {
  await readLines(path, recordLineHandler(makeParser), {
    file: path,
    signal: opts?.signal,
    progress: sink.progress ? (n) => sink.progress!(n) : undefined,
  });
}

/**
 * State every line parser carries: the reused record and location, the sink, and the time offset.
 * The SourceLocation handed to the sink is reused too: a sink that keeps it must copy it.
 */
export class ParserBase {
  readonly rec: FlowRecord;
  readonly loc: SourceLocation;
  readonly offsetMs: number;
  /**
   * Start offsets of the fields of the current line (see splitFields): room for the header's
   * columns and then some (Argus payload columns may hold commas); longer lines are refused.
   */
  readonly pos: Int32Array;

  constructor(
    readonly sink: RecordSink,
    file: string,
    opts: ReadOptions | undefined,
    columns: number,
  ) {
    this.rec = emptyRecord();
    this.pos = new Int32Array(Math.max(columns + 2, 4096));
    this.loc = { file, line: 0 };
    this.offsetMs = Math.round((opts?.utcOffsetHours ?? 0) * 3_600_000);
  }

  /**
   * Reports a bad record. On a last line without its newline every failure becomes
   * `truncated_line`: the file was cut in the middle of that line.
   */
  bad(terminated: boolean, reason: RejectReason, field: string, detail: string): void {
    if (terminated) this.sink.reject(reason, this.loc, field, detail);
    else this.sink.reject('truncated_line', this.loc, field, `last line has no newline (file cut short?): ${detail}`);
  }

  /** Sets the record's source (`which` 0) or destination (1) address from a field; false when it is no address. */
  address(which: 0 | 1, buf: Buffer, start: number, end: number): boolean {
    const a = skipSpaces(buf, start, end);
    const b = trimEnd(buf, a, end);
    const v4 = parseIPv4Bytes(buf, a, b);
    let v6 = '';
    if (v4 < 0) {
      const c = canonicalIPv6Cached(buf.toString('latin1', a, b));
      if (c === null) return false;
      v6 = c;
    }
    this.setAddress(which, v4, v6);
    return true;
  }

  /** Sets the record's source (`which` 0) or destination (1) address: IPv4 as a number (-1 for IPv6), IPv6 canonical ('' for IPv4). */
  setAddress(which: 0 | 1, v4: number, v6: string): void {
    if (which === 0) {
      this.rec.src4 = v4;
      this.rec.src6 = v6;
    } else {
      this.rec.dst4 = v4;
      this.rec.dst6 = v6;
    }
  }

  /**
   * A packet or byte count from column c (`what`: 'packet' or 'byte'); 0 when the column is absent
   * (c < 0). Reports `bad_count` naming `field` and returns -1 when the field is no count.
   */
  countAt(c: number, buf: Buffer, terminated: boolean, field: string, what: string): number {
    if (c < 0) return 0;
    const a = this.pos[c];
    const b = this.pos[c + 1] - 1;
    const v = parseCount(buf, a, b);
    if (v < 0) this.bad(terminated, 'bad_count', field, `${shown(fieldText(buf, a, b))} is not a ${what} count`);
    return v;
  }

  /** The usual message for a wrong number of fields. */
  fieldCount(terminated: boolean, expected: number, found: number): void {
    this.bad(terminated, 'malformed_line', '', `expected ${expected} fields as in the header, found ${found}`);
  }
}

/** What a header-named format's parser is built from: the header's column names, the sink, the file, the header's line and the read options. */
export type HeaderArgs = [
  names: readonly string[],
  sink: RecordSink,
  file: string,
  headerLine: number,
  opts: ReadOptions | undefined,
];

/**
 * A parser of a format whose header names its columns: `ncols` fields a line, `need(...)` the index
 * of a column the format cannot do without (or a format error at the header, see columnFinder).
 */
export class HeaderParser extends ParserBase {
  readonly names: readonly string[];
  readonly ncols: number;
  protected readonly need: (...candidates: string[]) => number;

  constructor([names, sink, file, headerLine, opts]: HeaderArgs, format: string, listFound = false) {
    super(sink, file, opts, names.length);
    this.names = names;
    this.ncols = names.length;
    this.need = columnFinder(names, file, headerLine, format, listFound);
  }

  /**
   * Starts line `lineNo`: splits its quoted CSV fields into `pos`; false, reported, when it has not
   * the header's number of fields.
   */
  protected splitLine(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): boolean {
    this.loc.line = lineNo;
    const n = splitFieldsQuoted(buf, start, end, this.pos);
    if (n === this.ncols) return true;
    this.fieldCount(terminated, this.ncols, n);
    return false;
  }

  /**
   * The header's index of each column of a format's table, by role: `needed` ones through need() (in
   * the table's order, so the first one missing is the format error), `optional` ones -1 when absent.
   */
  protected locate<N extends ColumnNames, O extends ColumnNames>(
    needed: N,
    optional: O,
  ): Readonly<Record<keyof N | keyof O, number>> {
    const out: Record<string, number> = {};
    const candidates = (c: string | readonly string[]) => (typeof c === 'string' ? [c] : [...c]);
    for (const [k, c] of Object.entries(needed)) out[k] = this.need(...candidates(c));
    for (const [k, c] of Object.entries(optional)) out[k] = columnIndex(this.names, ...candidates(c));
    return out as Record<keyof N | keyof O, number>;
  }

  /**
   * Source and destination address, ports and a numeric protocol (the header's columns `c` names),
   * as the bidirectional CSV formats (CICFlowMeter, NF-v9) carry them. Reports the first bad field
   * and returns false.
   */
  protected endpoints(buf: Buffer, terminated: boolean, c: Readonly<Record<EndpointRole, number>>): boolean {
    const pos = this.pos;
    const rec = this.rec;
    const names = this.names;
    for (const [which, i] of [
      [0, c.src],
      [1, c.dst],
    ] as const) {
      if (!this.address(which, buf, pos[i], pos[i + 1] - 1)) {
        this.bad(
          terminated,
          'bad_address',
          names[i],
          `${shown(fieldText(buf, pos[i], pos[i + 1] - 1))} is not an IPv4 or IPv6 address`,
        );
        return false;
      }
    }
    for (const i of [c.sport, c.dport]) {
      const a = skipSpaces(buf, pos[i], pos[i + 1] - 1);
      const b = trimEnd(buf, a, pos[i + 1] - 1);
      const port = parsePort(buf, a, b);
      if (port < 0) {
        this.bad(terminated, 'bad_port', names[i], `${shown(fieldText(buf, a, b))} is not a port number`);
        return false;
      }
      if (i === c.sport) rec.sp = port;
      else rec.dp = port;
    }
    const proto = parseCount(buf, pos[c.proto], pos[c.proto + 1] - 1);
    if (proto < 0 || proto > 255) {
      this.bad(
        terminated,
        'unknown_protocol',
        names[c.proto],
        `${shown(fieldText(buf, pos[c.proto], pos[c.proto + 1] - 1))} is not a protocol number (0-255)`,
      );
      return false;
    }
    rec.proto = proto;
    return true;
  }
}

/** The columns endpoints() reads. */
export type EndpointRole = 'src' | 'dst' | 'sport' | 'dport' | 'proto';

/** A format's columns by role: the column's name, or alternatives tried in order (columnIndex). */
export type ColumnNames = Record<string, string | readonly string[]>;

/**
 * `need(...candidates)`: the index of a column the format cannot do without (columnIndex), or a
 * format error at the header naming the first candidate: "`format` header lacks column 'X'", with
 * the columns found when `listFound`.
 */
export function columnFinder(
  names: readonly string[],
  file: string,
  headerLine: number,
  format: string,
  listFound = false,
): (...candidates: string[]) => number {
  return (...candidates) => {
    const i = columnIndex(names, ...candidates);
    if (i < 0)
      throw new InputError(
        'format',
        { file, line: headerLine },
        candidates[0],
        `${format} header lacks column '${candidates[0]}'${listFound ? ` (found: ${names.join(',')})` : ''}`,
      );
    return i;
  };
}

/** A FlowReader of a text format whose first line is a header naming the columns the parser is built from. */
export function headerReader(format: InputFormat, makeParser: (...args: HeaderArgs) => RecordLineParser): FlowReader {
  return {
    format,
    read(path: string, sink: RecordSink, opts?: ReadOptions): Promise<void> {
      return readTextFile(path, sink, opts, (buf, start, end, lineNo) => ({
        parser: makeParser(headerNames(buf, start, end), sink, path, lineNo, opts),
        firstLineIsData: false,
      }));
    },
  };
}

/** Column index by name (exact match first, then case-insensitive), or -1. */
export function columnIndex(names: readonly string[], ...candidates: string[]): number {
  for (const c of candidates) {
    const i = names.indexOf(c);
    if (i >= 0) return i;
  }
  const lower = names.map((n) => n.toLowerCase());
  for (const c of candidates) {
    const i = lower.indexOf(c.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}

/** Shortens a field's text for an error message. */
export function shown(text: string): string {
  return text.length > 60 ? `'${text.slice(0, 57)}...'` : `'${text}'`;
}
