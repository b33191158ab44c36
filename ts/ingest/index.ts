/**
 * Flow-record ingestion: one reader per input format, format detection, and the convenience
 * `readFlows` that detects and reads. Every reader feeds a RecordSink with one reused FlowRecord
 * and one reused SourceLocation per file (copy what you keep). See docs/ingest.md.
 */
import { stat } from 'node:fs/promises';
import { argusReader } from './argus.js';
import { cicflowmeterReader } from './cicflowmeter.js';
import { detectFormat } from './detect.js';
import { filesBelow, nfcapdReader } from './nfcapd.js';
import { nfdumpCsvReader } from './nfdump-reader.js';
import { nfV9Reader } from './nf-v9.js';
import {
  INPUT_FORMATS,
  InputError,
  type FlowReader,
  type InputFormat,
  type ReadOptions,
  type RecordSink,
} from './record.js';

export { detectFormat, formatOfHeader, FORMAT_DESCRIPTIONS } from './detect.js';
export { INPUT_FORMATS, InputError, REJECT_REASONS, emptyRecord } from './record.js';
export type {
  FlowReader,
  FlowRecord,
  InputFormat,
  ReadOptions,
  RecordSink,
  RejectReason,
  SourceLocation,
} from './record.js';

const READERS: Record<InputFormat, FlowReader> = {
  'nfdump-csv': nfdumpCsvReader,
  nfcapd: nfcapdReader,
  argus: argusReader,
  cicflowmeter: cicflowmeterReader,
  'nf-v9': nfV9Reader,
};

/** The reader of a format. Throws for a name that is not one of INPUT_FORMATS. */
export function readerFor(format: InputFormat): FlowReader {
  const r = READERS[format];
  if (!r) throw new Error(`unknown input format '${format}' (supported: ${INPUT_FORMATS.join(', ')})`);
  return r;
}

/**
 * The files the given paths stand for, in order: a file is itself; a directory is every file below
 * it, recursively, sorted by path, skipping dot files and `nfcapd.current.*` (still being written).
 * Throws InputError('io') for a path that does not exist.
 */
export async function expandInputs(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new InputError('io', { file: p }, '', `cannot read: ${(err as Error).message}`);
    }
    if (info.isDirectory()) out.push(...(await filesBelow(p)));
    else out.push(p);
  }
  return out;
}

export interface ReadFlowsOptions extends ReadOptions {
  /** Skip detection and read every file with this format. */
  format?: InputFormat;
}

/**
 * Reads a flow file, or every file of a directory (see expandInputs), detecting each file's format
 * unless `opts.format` says it. Returns the files read with their formats.
 */
export async function readFlows(
  path: string,
  sink: RecordSink,
  opts: ReadFlowsOptions = {},
): Promise<{ file: string; format: InputFormat }[]> {
  const { format, ...readOpts } = opts;
  const done: { file: string; format: InputFormat }[] = [];
  for (const file of await expandInputs([path])) {
    readOpts.signal?.throwIfAborted();
    const f = format ?? (await detectFormat(file));
    await readerFor(f).read(file, sink, readOpts);
    done.push({ file, format: f });
  }
  return done;
}

/**
 * The minute an nfcapd file's name carries (`nfcapd.YYYYMMDDhhmm`, optionally `ss`; nfcapd names a
 * file by the start of its rotation interval, in the collector's clock, read as UTC), or null.
 */
export function nfcapdNameMinute(path: string): number | null {
  const m = /^nfcapd\.(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(path.slice(path.lastIndexOf('/') + 1));
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isFinite(t) ? Math.floor(t / 60_000) : null;
}

/** The start minute of a file's first good record (read until it is found), or null when it has none. */
export async function firstRecordMinute(
  path: string,
  format: InputFormat,
  opts: ReadOptions = {},
): Promise<number | null> {
  const stop = new AbortController();
  const outer = opts.signal;
  const onAbort = () => stop.abort();
  outer?.addEventListener('abort', onAbort);
  let first: number | null = null;
  const sink: RecordSink = {
    record(rec) {
      if (first === null) first = Math.floor(rec.startMs / 60_000);
      stop.abort();
    },
    reject() {},
  };
  try {
    await readerFor(format).read(path, sink, { ...opts, signal: stop.signal });
  } catch (e) {
    if (first === null || outer?.aborted) throw e;
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
  return first;
}
