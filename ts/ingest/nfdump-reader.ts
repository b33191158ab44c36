/**
 * The nfdump readers: a file of nfdump CSV (`nfdump -o csv`, with or without its header) and the short
 * `fmt` output the nfcapd reader asks nfdump for, both parsed by NfdumpCsvParser (nfdump-csv.ts).
 */
import { fieldText, headerNames, parseTimestamp } from './fields.js';
import { NfdumpCsvParser } from './nfdump-csv.js';
import { FMT_TITLE, NFDUMP_CSV_COLUMNS, NFDUMP_FMT_COLUMNS, nfdumpFmt, startsWithBytes } from './nfdump-fields.js';
import { InputError, type FlowReader, type ReadOptions, type RecordSink } from './record.js';
import { columnIndex, readTextFile, shown, type ParserFactory } from './text-records.js';

/**
 * A parser factory for nfdump CSV: the first line is the header, or (output of `nfdump -q`) already
 * a record, read with nfdump 1.7's column list.
 */
export function nfdumpCsvParserFactory(
  sink: RecordSink,
  file: string,
  opts: ReadOptions | undefined,
  applyOffset = true,
): ParserFactory {
  return (buf, start, end, lineNo) => {
    const names = headerNames(buf, start, end);
    if (columnIndex(names, 'ts') >= 0) {
      return { parser: new NfdumpCsvParser(names, sink, file, lineNo, opts, applyOffset), firstLineIsData: false };
    }
    const comma = buf.indexOf(44, start);
    const firstEnd = comma >= 0 && comma < end ? comma : -1;
    if (
      names.length === NFDUMP_CSV_COLUMNS.length &&
      firstEnd > 0 &&
      parseTimestamp(buf, start, firstEnd) === parseTimestamp(buf, start, firstEnd)
    ) {
      return {
        parser: new NfdumpCsvParser(NFDUMP_CSV_COLUMNS, sink, file, lineNo, opts, applyOffset),
        firstLineIsData: true,
      };
    }
    throw new InputError(
      'format',
      { file, line: lineNo },
      '',
      `not an nfdump CSV header (expected ts,te,td,sa,da,...; found ${shown(fieldText(buf, start, end))})`,
    );
  };
}

/**
 * A parser factory for NFDUMP_FMT output (what the nfcapd reader asks nfdump for): the first line is
 * nfdump's title line, the records follow with the NFDUMP_FMT_COLUMNS.
 */
export function nfdumpFmtParserFactory(
  sink: RecordSink,
  file: string,
  opts: ReadOptions | undefined,
  columns: readonly string[] = NFDUMP_FMT_COLUMNS,
): ParserFactory {
  return (buf, start, end, lineNo) => {
    if (!startsWithBytes(buf, start, end, FMT_TITLE))
      throw new InputError(
        'format',
        { file, line: lineNo },
        '',
        `nfdump printed no title line for ${nfdumpFmt(columns)} (found ${shown(fieldText(buf, start, end))})`,
      );
    return {
      parser: new NfdumpCsvParser(columns, sink, file, lineNo, opts, false, true),
      firstLineIsData: false,
    };
  };
}

export const nfdumpCsvReader: FlowReader = {
  format: 'nfdump-csv',
  read(path: string, sink: RecordSink, opts?: ReadOptions): Promise<void> {
    return readTextFile(path, sink, opts, nfdumpCsvParserFactory(sink, path, opts));
  },
};
