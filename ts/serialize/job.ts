/**
 * One read job of serialize: a whole input file, or a byte range of a large nfdump CSV file (split
 * at line ends), read in the main thread or in a worker thread (worker.ts), with the same code.
 *
 * - `scan` jobs (the first pass): the histogram of record start minutes and the first one.
 * - `aggregate` jobs: the records through the same checks as always (time range, outliers, nodes),
 *   into the job's own ChunkWindow; blocks leave through `out.blocks`. Records that lag more than
 *   the reorder window behind the job's newest record are kept aside and added at the job's end, in
 *   time order (as serialize always did at the end of the run: the sums are exact, so where a record
 *   is added does not change the series).
 *
 * What the main thread needs to give the same manifest as one thread reading the files in order
 * comes back in the JobResult: counts, reject counts and the rejects that can become examples (the
 * first `maxExamples` of each reason in this job, with lines relative to the job's first line), the
 * nodes in the order the job first saw them, the lines the job read, the minutes of the records it
 * placed (to count the records that are late only with respect to an earlier range of the same
 * file), and where it stopped (a `Summary` line, an error).
 */
import { createReadStream } from 'node:fs';
import { N_FEATURES } from '../catalogue/features.js';
import { readerFor } from '../ingest/index.js';
import { splitLines } from '../ingest/lines.js';
import { nfdumpCsvParserFactory } from '../ingest/nfdump-reader.js';
import {
  InputError,
  type EstimateKind,
  type FlowRecord,
  type InputFormat,
  type RecordSink,
  type RejectReason,
  type SourceLocation,
} from '../ingest/record.js';
import { recordLineHandler, type RecordLineParser } from '../ingest/text-records.js';
import { addRecord } from './aggregate.js';
import { ChunkWindow } from './chunks.js';
import type { NodeRegistry } from './inventory.js';
import { LateRecords } from './late.js';
import { sha256File } from './outcome.js';
import { minuteToIso, type RejectExample } from './store.js';

/** What every job of a run shares. */
export interface JobContext {
  nodes?: string;
  prefixes?: string[];
  utcOffsetHours?: number;
  spreadLongFlows: boolean;
  /** --from/--to as minutes (or -Infinity/Infinity). */
  givenFrom: number;
  givenTo: number;
  /** The store's range (aggregate jobs). */
  lo: number;
  hi: number;
  reorder: number;
  chunkMinutes: number;
  sampling: number;
  strict: boolean;
  maxExamples: number;
  /** --max-late-records, for the out_of_order message. */
  maxLate: number;
}

/** A byte range of a file: [start, end), whole lines; `header` is the file's first non-blank line (latin1), for ranges after the first. */
export interface ByteRange {
  start: number;
  end: number;
  header: string | null;
  headerLine: number;
}

export interface JobSpec {
  kind: 'scan' | 'aggregate';
  index: number;
  path: string;
  format: InputFormat;
  range: ByteRange | null;
  /** Hash the whole file while reading (the aggregate job holding the file's start). */
  hash: boolean;
  /** Late records this job may keep aside; the ones after are rejected as out_of_order. */
  lateBudget: number;
}

/** An InputError as data (it crosses threads). */
export interface ErrorData {
  reason: InputError['reason'];
  file: string;
  line?: number;
  field: string;
  message: string;
  detail: string;
}

export interface JobResult {
  index: number;
  /** Lines the job read (a range's line numbers are relative to its first line). */
  lines: number;
  /** Records read, rejected ones included. */
  read: number;
  /** The line of a `Summary` line that ended the records, or 0. */
  summaryLine: number;
  /** A read error (io/format): the job stopped there. */
  error: ErrorData | null;
  // scan
  hist: [number, number][];
  firstMinute: number;
  // aggregate
  used: number;
  unmatched: number;
  outsideRange: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Rejects that can become examples, in order (lines relative to the job). */
  examples: RejectExample[];
  /** The first reject under --strict: the job stopped there. */
  fatal: ErrorData | null;
  estimated: Partial<Record<EstimateKind, number>>;
  /** Records kept aside as late within this job. */
  late: number;
  /** Start minutes of the records placed directly (not late), with counts. */
  placed: [number, number][];
  /** The newest minute the job's window reached (-Infinity for none). */
  newest: number;
  minMinute: number;
  lastMinute: number;
  peakOpenChunks: number;
  /** Node ids (of the job's registry) in the order the job first saw them. */
  seen: number[];
  sha256: string | null;
}

/** Where a job's output goes while it runs. */
export interface JobOutput {
  /** A chunk's blocks (float64, chunkMinutes x features each, one after the other) for these nodes. */
  blocks(start: number, nodes: readonly number[], blocks: readonly Float64Array[]): void;
  progress(bytes: number): void;
}

export function errorData(e: InputError, detail: string): ErrorData {
  return { reason: e.reason, file: e.loc.file, line: e.loc.line, field: e.field, message: e.message, detail };
}

/** Why the fast split was not used: a job result that one thread reading the file in order would not give. */
export class SerialRerun extends Error {
  constructor(why: string) {
    super(`serialize: reading again on one thread: ${why}`);
    this.name = 'SerialRerun';
  }
}

function emptyResult(index: number): JobResult {
  return {
    index,
    lines: 0,
    read: 0,
    summaryLine: 0,
    error: null,
    hist: [],
    firstMinute: NaN,
    used: 0,
    unmatched: 0,
    outsideRange: 0,
    rejected: {},
    examples: [],
    fatal: null,
    estimated: {},
    late: 0,
    placed: [],
    newest: -Infinity,
    minMinute: Infinity,
    lastMinute: -Infinity,
    peakOpenChunks: 0,
    seen: [],
    sha256: null,
  };
}

/** A strict-mode stop: thrown from the sink, caught by runJob. */
class StrictStop extends Error {}

/**
 * Reads a job's records into `sink`: the whole file through its reader, or a byte range of an
 * nfdump CSV file. Returns the number of lines read (ranges), and the Summary line if one ended the
 * records, where known.
 */
async function readJob(
  spec: JobSpec,
  sink: RecordSink,
  ctx: JobContext,
  signal: AbortSignal | undefined,
  onSummary: (line: number) => void,
): Promise<number> {
  // the first pass needs only the records' times
  const opts = { signal, utcOffsetHours: ctx.utcOffsetHours, timesOnly: spec.kind === 'scan' };
  if (spec.range === null) {
    await readerFor(spec.format).read(spec.path, sink, opts);
    return 0;
  }
  const r = spec.range;
  const factory = nfdumpCsvParserFactory(sink, spec.path, opts);
  let handler;
  if (r.header === null) handler = recordLineHandler(factory);
  else {
    const head = Buffer.from(r.header, 'latin1');
    const parser: RecordLineParser = factory(head, 0, head.length, r.headerLine).parser;
    handler = (buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void => {
      if (start === end) return;
      parser.line(buf, start, end, lineNo, terminated);
    };
  }
  const summary = Buffer.from('Summary');
  const lines = await splitLines(
    createReadStream(spec.path, { start: r.start, end: r.end - 1, highWaterMark: 1 << 20 }),
    (buf, start, end, lineNo, terminated) => {
      if (buf[start] === 83 && end - start >= 7 && buf.compare(summary, 0, 7, start, start + 7) === 0)
        onSummary(lineNo);
      handler(buf, start, end, lineNo, terminated);
    },
    { file: spec.path, signal, progress: (n) => sink.progress?.(n) },
  );
  return lines;
}

/**
 * Runs one job. `registry` is the thread's node registry (loaded from the run's inventory; it keeps
 * growing over the thread's jobs, and `seen` names the nodes this job used, in first-seen order).
 */
export async function runJob(
  spec: JobSpec,
  ctx: JobContext,
  registry: NodeRegistry,
  out: JobOutput,
  signal?: AbortSignal,
): Promise<JobResult> {
  const res = emptyResult(spec.index);
  const { givenFrom, givenTo } = ctx;
  const seenMark: number[] = [];
  const see = (id: number): void => {
    if (seenMark[id] !== 1) {
      seenMark[id] = 1;
      res.seen.push(id);
    }
  };
  let summaryLine = 0;
  const onSummary = (line: number): void => {
    if (summaryLine === 0) summaryLine = line;
  };

  if (spec.kind === 'scan') {
    const hist = new Map<number, number>();
    const sink: RecordSink = {
      record(rec: FlowRecord): void {
        res.read++;
        const m = Math.floor(rec.startMs / 60_000);
        if (m < givenFrom || m >= givenTo) return;
        if (res.firstMinute !== res.firstMinute) res.firstMinute = m;
        hist.set(m, (hist.get(m) ?? 0) + 1);
        // a spread flow reaches its end minute: the range may widen to it (without counting it twice)
        if (ctx.spreadLongFlows && rec.endMs > rec.startMs) {
          const e = Math.floor(rec.endMs / 60_000);
          if (e > m && e < givenTo && !hist.has(e)) hist.set(e, 0);
        }
      },
      reject(): void {
        res.read++;
      },
      progress: (b) => out.progress(b),
    };
    try {
      res.lines = await readJob(spec, sink, ctx, signal, onSummary);
    } catch (e) {
      if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format')) throw e;
      res.error = errorData(e, e.message.replace(/^[^:]*(:\d+)?: (io|format): /, ''));
    }
    res.summaryLine = summaryLine;
    res.hist = [...hist];
    return res;
  }

  const { lo, hi, sampling, reorder, maxExamples } = ctx;
  const window = new ChunkWindow(ctx.chunkMinutes, N_FEATURES, reorder, (start, nodes, blocks) =>
    out.blocks(start, nodes, blocks),
  );
  const late = new LateRecords();
  const placed = new Map<number, number>();
  // records come in runs of one minute: counted per run, added to `placed` when the minute changes
  let runMinute = NaN;
  let runCount = 0;
  const flushRun = (): void => {
    if (runCount > 0) placed.set(runMinute, (placed.get(runMinute) ?? 0) + runCount);
    runCount = 0;
  };
  const rejected: Partial<Record<RejectReason, number>> = {};
  const estimated: Partial<Record<EstimateKind, number>> = {};
  const rangeText = () => `${minuteToIso(lo)} to ${minuteToIso(hi)}`;

  const noteReject = (reason: RejectReason, loc: SourceLocation, field: string, detail: string): void => {
    const n = (rejected[reason] = (rejected[reason] ?? 0) + 1);
    if (n <= maxExamples || ctx.strict) res.examples.push({ reason, file: loc.file, line: loc.line, field, detail });
    if (ctx.strict) {
      res.fatal = { reason, file: loc.file, line: loc.line, field, message: '', detail };
      throw new StrictStop();
    }
  };

  /** Adds a record to its minutes; false when its minute is behind the window (kept aside). */
  const place = (rec: FlowRecord, s: number, d: number, minute: number): boolean => {
    const chunk = window.chunkFor(minute);
    if (chunk === null) return false;
    const endMinute =
      ctx.spreadLongFlows && rec.endMs > rec.startMs ? Math.min(Math.floor(rec.endMs / 60_000), hi - 1) : minute;
    if (endMinute <= minute) {
      const off = chunk.offset(minute);
      addRecord(rec, s >= 0 ? chunk.block(s) : null, off, d >= 0 ? chunk.block(d) : null, off, sampling);
      window.touch(minute);
    } else {
      const dur = rec.endMs - rec.startMs;
      for (let m = minute; m <= endMinute; m++) {
        const c = m === minute ? chunk : window.chunkFor(m, false);
        if (c === null) continue;
        const share = (Math.min(rec.endMs, (m + 1) * 60_000) - Math.max(rec.startMs, m * 60_000)) / dur;
        const off = c.offset(m);
        addRecord(rec, s >= 0 ? c.block(s) : null, off, d >= 0 ? c.block(d) : null, off, sampling, share, m === minute);
        window.touch(m);
      }
    }
    return true;
  };

  const sink: RecordSink = {
    record(rec: FlowRecord, loc: SourceLocation): void {
      res.read++;
      const minute = Math.floor(rec.startMs / 60_000);
      if (minute < givenFrom || minute >= givenTo) {
        res.outsideRange++;
        return;
      }
      if (minute < lo || minute >= hi) {
        noteReject(
          'time_outlier',
          loc,
          'ts',
          `flow starts at ${minuteToIso(minute)}, far outside the time range of the bulk of the data (${rangeText()}); a wrong clock? Give --from/--to to keep it`,
        );
        return;
      }
      const s = rec.src4 >= 0 ? registry.node4(rec.src4) : registry.node6(rec.src6);
      const d = rec.dst4 >= 0 ? registry.node4(rec.dst4) : registry.node6(rec.dst6);
      if (s >= 0) see(s);
      if (d >= 0) see(d);
      if (s < 0 && d < 0) {
        res.unmatched++;
        return;
      }
      if (place(rec, s, d, minute)) {
        if (minute !== runMinute) {
          flushRun();
          runMinute = minute;
        }
        runCount++;
      } else if (late.n >= spec.lateBudget) {
        noteReject(
          'out_of_order',
          loc,
          'ts',
          `flow starts at ${minuteToIso(minute)}, more than ${reorder} minutes before the newest record of its file, and ${ctx.maxLate} such records are already kept aside (raise --reorder-minutes, or give the records in time order)`,
        );
        return;
      } else late.push(rec, s, d);
      res.used++;
    },
    reject(reason: RejectReason, loc: SourceLocation, field: string, detail: string): void {
      res.read++;
      noteReject(reason, loc, field, detail);
    },
    estimated(what: EstimateKind): void {
      estimated[what] = (estimated[what] ?? 0) + 1;
    },
    progress: (b) => out.progress(b),
  };

  const stopHash = new AbortController();
  const hashing = spec.hash ? sha256File(spec.path, stopHash.signal) : null;
  try {
    res.lines = await readJob(spec, sink, ctx, signal, onSummary);
  } catch (e) {
    if (!(e instanceof StrictStop)) {
      if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format') || signal?.aborted) {
        stopHash.abort();
        await hashing?.catch(() => undefined);
        throw e;
      }
      res.error = errorData(e, e.message.replace(/^[^:]*(:\d+)?: (io|format): /, ''));
    }
  }
  if (res.error !== null || res.fatal !== null) {
    stopHash.abort();
    await hashing?.catch(() => undefined);
  } else if (hashing) res.sha256 = await hashing;
  flushRun();
  res.summaryLine = summaryLine;
  res.newest = window.newest;
  // the late records, in time order
  res.late = late.n;
  window.restart();
  late.replay((rec, s, d) => void place(rec, s, d, Math.floor(rec.startMs / 60_000)));
  window.finish();
  res.placed = [...placed];
  res.rejected = rejected;
  res.estimated = estimated;
  res.minMinute = window.minMinute;
  res.lastMinute = window.lastMinute;
  res.peakOpenChunks = window.peakOpenChunks;
  return res;
}
