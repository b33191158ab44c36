/** What `netflowgen serialize` takes (ts/serialize/serialize.ts), and its defaults. */
import type { InputFormat } from '../ingest/record.js';
import { isoToMinute, type RejectExample, type SkippedFile } from './store.js';

export interface SerializeOptions {
  /** Flow files or directories (directories: every flow file below, ordered by time). */
  inputs: string[];
  /** Node inventory CSV (`prefix,customer[,role]`). */
  nodes?: string;
  /** Prefixes given on the command line, `CIDR[=CUSTOMER]`, in addition to (or instead of) an inventory. */
  prefixes?: string[];
  out: string;
  /** Force one input format instead of detecting it per file. */
  format?: InputFormat;
  /** Keep minutes in [from, to) (ISO 8601, UTC). Default: the bulk of the data (`bulkRange`). */
  from?: string;
  to?: string;
  /** Packet sampling 1:N: packets, bytes and flows are multiplied by N. */
  sampling?: number;
  /** First bad record, or skipped file, is fatal. */
  strict?: boolean;
  /** Replace a previous store (never a folder holding an input or that is not a netflowgen output). */
  force?: boolean;
  /** Spread a long flow's packets and bytes over the minutes it spans (its flow counts once, in its start minute). */
  spreadLongFlows?: boolean;
  /** How many minutes a record may lag behind the newest record of its file before it is kept aside as late (default 60). */
  reorderMinutes?: number;
  /** Late records kept aside (and added at the end) at most; later ones are rejected as out_of_order (default 1,000,000). */
  maxLateRecords?: number;
  /** Minutes per in-memory chunk (default 60). */
  chunkMinutes?: number;
  /** Hours to add to naive timestamps of the input to reach UTC. */
  utcOffsetHours?: number;
  /** How many bad-record examples the manifest keeps per reason (default 20). */
  maxExamples?: number;
  /** Largest share of the records read that may be rejected before the run counts as failed (default 0.01). */
  maxRejectShare?: number;
  /** Without --from/--to, a store larger than this (bytes, default 4 GiB) needs `allowLarge`. */
  maxStoreBytes?: number;
  allowLarge?: boolean;
  /**
   * Threads that read and aggregate (default: the available cores, at most 8). Files are spread over
   * them, and a large plain nfdump CSV file is cut into one byte range per thread; the store is the
   * same whatever the number. --spread-long-flows and a fractional --sampling use one thread.
   */
  threads?: number;
  /** A plain nfdump CSV file at least this large is cut into byte ranges when threads > 1 (default 32 MiB; tests set it low). */
  splitMinBytes?: number;
  signal?: AbortSignal;
  /**
   * Called with the bad records that can become examples: the first `maxExamples` of each reason in
   * each file, or byte range of one (the CLI prints the first ones). With threads, after the read.
   */
  onReject?: (example: RejectExample) => void;
  /** Called with each skipped file. */
  onSkip?: (skipped: SkippedFile) => void;
}

export const DEFAULT_MAX_REJECT_SHARE = 0.01;
export const DEFAULT_MAX_STORE_BYTES = 4 * 1024 ** 3;
export const DEFAULT_MAX_LATE_RECORDS = 1_000_000;

/** The settings a run uses: the options with their defaults, checked (an Error names the option). */
export function serializeSettings(opts: SerializeOptions) {
  const sampling = opts.sampling ?? 1;
  if (!(sampling > 0)) throw new Error(`--sampling must be a positive number, got ${opts.sampling}`);
  const maxRejectShare = opts.maxRejectShare ?? DEFAULT_MAX_REJECT_SHARE;
  if (!(maxRejectShare >= 0 && maxRejectShare <= 1))
    throw new Error(`--max-reject-share must be a share between 0 and 1, got ${opts.maxRejectShare}`);
  const givenFrom = opts.from !== undefined ? isoToMinute(opts.from) : -Infinity;
  const givenTo = opts.to !== undefined ? isoToMinute(opts.to) : Infinity;
  if (givenFrom >= givenTo) throw new Error(`--from (${opts.from}) must be before --to (${opts.to})`);
  return {
    sampling,
    reorder: opts.reorderMinutes ?? 60,
    chunkMinutes: opts.chunkMinutes ?? 60,
    maxExamples: opts.maxExamples ?? 20,
    maxLate: opts.maxLateRecords ?? DEFAULT_MAX_LATE_RECORDS,
    maxRejectShare,
    givenFrom,
    givenTo,
    rangeGiven: opts.from !== undefined && opts.to !== undefined,
  };
}
