/**
 * The one shape every reader produces: a flow record, normalised. Readers reuse a single mutable
 * FlowRecord and hand it to a RecordSink record by record (no allocation per record), so a sink
 * must copy what it wants to keep.
 */

export const INPUT_FORMATS = ['nfdump-csv', 'nfcapd', 'argus', 'cicflowmeter', 'nf-v9'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface FlowRecord {
  /** Flow start, milliseconds since the Unix epoch, UTC. */
  startMs: number;
  /** Flow end in ms since the epoch, or NaN when the format has none. */
  endMs: number;
  /** Source address: IPv4 as an unsigned 32-bit number, or -1 when the address is IPv6 (see src6). */
  src4: number;
  /** Source IPv6 address in canonical form (lower case, RFC 5952), or '' for IPv4. */
  src6: string;
  dst4: number;
  dst6: string;
  /** Source and destination ports (0 when the protocol has none). */
  sp: number;
  dp: number;
  /** IANA protocol number. */
  proto: number;
  /** Cumulative OR of TCP flags of the forward direction (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128); -1 unknown. */
  flags: number;
  /** Forward direction (src -> dst) packets and bytes. */
  pkts: number;
  bytes: number;
  /** Reverse direction (dst -> src) of a bidirectional record; 0 for unidirectional formats. */
  rpkts: number;
  rbytes: number;
  /** Cumulative TCP flags of the reverse direction; -1 unknown. */
  rflags: number;
}

export function emptyRecord(): FlowRecord {
  return {
    startMs: 0,
    endMs: NaN,
    src4: -1,
    src6: '',
    dst4: -1,
    dst6: '',
    sp: 0,
    dp: 0,
    proto: 0,
    flags: -1,
    pkts: 0,
    bytes: 0,
    rpkts: 0,
    rbytes: 0,
    rflags: -1,
  };
}

/** Why a record was rejected. Counted per reason in the store manifest; never silently dropped. */
export const REJECT_REASONS = [
  'malformed_line', // wrong number of fields, unparsable line
  'bad_timestamp',
  'bad_address',
  'bad_port',
  'bad_count', // negative or non-numeric packets/bytes
  'unknown_protocol',
  'out_of_order', // older than the reorder window allows once the buffer of late records is full (decided by the aggregator)
  'truncated_line', // last line of a file cut short
  'time_outlier', // far outside the time range of the bulk of the data (decided by the aggregator)
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a whole input file was skipped (counted, with its name, in the store manifest; fatal under --strict). */
export const SKIP_REASONS = [
  'unreadable_file', // cannot be read, or damaged (a truncated nfcapd file, corrupt gzip data)
  'not_flow_data', // not a flow file of a known format (a README, a pcap, an empty file)
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What a reader may have to estimate: the forward (src -> dst) packets or bytes of a bidirectional record. */
export const ESTIMATE_KINDS = ['forward_packets', 'forward_bytes'] as const;
export type EstimateKind = (typeof ESTIMATE_KINDS)[number];

/** Where a record came from, for error messages: file (as given by the user) and 1-based line. */
export interface SourceLocation {
  file: string;
  line: number;
}

export interface RecordSink {
  /** One good record. `rec` is reused by the reader after the call returns. */
  record(rec: FlowRecord, loc: SourceLocation): void;
  /**
   * One bad record. `field` names the offending column when there is one. In strict mode the sink
   * throws (an InputError), which ends the read.
   */
  reject(reason: RejectReason, loc: SourceLocation, field: string, detail: string): void;
  /** Input bytes consumed so far in this file (compressed bytes for gzip), for progress. */
  progress?(bytesRead: number): void;
  /**
   * The next record's forward packets or bytes are an estimate (a format variant without the
   * per-direction column; docs/ingest.md): called before `record` with what was estimated.
   */
  estimated?(what: EstimateKind, loc: SourceLocation): void;
}

/** An error in the user's input, naming the file, line and field. */
export class InputError extends Error {
  constructor(
    readonly reason: RejectReason | 'io' | 'format',
    readonly loc: SourceLocation | { file: string; line?: number },
    readonly field: string,
    detail: string,
  ) {
    super(
      `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ''}: ${reason}${field ? ` in field '${field}'` : ''}: ${detail}`,
    );
    this.name = 'InputError';
  }
}

export interface ReadOptions {
  /** Stop early (Ctrl-C): readers check it between chunks. */
  signal?: AbortSignal;
  /** Hours to add to naive local timestamps to reach UTC (formats without a time zone). Default 0. */
  utcOffsetHours?: number;
  /**
   * The sink reads only `startMs` and `endMs` (serialize's first pass, which finds the time range): a
   * reader may leave the other fields unparsed, so a line whose times are good and another field bad
   * may reach `record` (the second pass rejects it, naming file, line and field). Lines whose times
   * are bad, and lines that are not records, are handled as always.
   */
  timesOnly?: boolean;
}

/** A reader for one input format. */
export interface FlowReader {
  readonly format: InputFormat;
  /** Reads one file (gzip accepted where the format is text) and feeds the sink. */
  read(path: string, sink: RecordSink, opts?: ReadOptions): Promise<void>;
}
