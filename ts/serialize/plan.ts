/**
 * The bookkeeping of serialize's read jobs (job.ts, run by parallel.ts): which jobs read which files,
 * taking their results in job order, and one node id per address across the threads.
 *
 * Threads (serialize's `threads`, default the available cores up to 8): both passes run as read jobs
 * (job.ts) on worker threads (parallel.ts): one per file, or per byte range of a large plain nfdump CSV file
 * (split.ts). Jobs send their chunks' float64 blocks as they leave their windows; SeriesMerge sums
 * them (exact: integer sums), so the series does not depend on the split. Each job's result (counts,
 * rejects with lines relative to the job, nodes in first-seen order, late records) is taken in job
 * order, so the manifest is that of one thread reading the files in order. Where a split read
 * cannot give it (more late records than `maxLateRecords`, a `Summary` line or a read error before
 * the end of a cut file), the run starts again on one thread. One thread runs the same jobs in
 * order, without workers.
 */
import { firstRecordMinute } from '../ingest/index.js';
import { InputError } from '../ingest/record.js';
import { SerialRerun, type ByteRange, type ErrorData, type JobResult, type JobSpec } from './job.js';
import { abortError } from './outcome.js';
import type { Planned } from './scan.js';

/** An address as the jobs report it: IPv4 as a number (-1 for IPv6), IPv6 as canonical text. */
export type NodeAddress = { v4: number; v6: string };

/**
 * The jobs over some files: one per file, or one per byte range of a large nfdump CSV file (`rangesOf`,
 * null for a whole file). `fileOf[j]` is job j's file, `last[j]` whether it is its file's last range.
 */
export async function planJobs(
  kind: JobSpec['kind'],
  fs: readonly Planned[],
  rangesOf: (f: Planned) => Promise<ByteRange[] | null>,
  threads: number,
  maxLate: number,
): Promise<{ specs: JobSpec[]; fileOf: number[]; last: boolean[] }> {
  const specs: JobSpec[] = [];
  const fileOf: number[] = [];
  const last: boolean[] = [];
  for (let i = 0; i < fs.length; i++) {
    const rs = await rangesOf(fs[i]);
    const parts = rs ?? [null];
    parts.forEach((range, k) => {
      fileOf.push(i);
      last.push(k === parts.length - 1);
      specs.push({
        kind,
        index: specs.length,
        path: fs[i].path,
        format: fs[i].format,
        range,
        // with threads the main thread hashes (it mostly waits); alone, the job hashes while it reads
        hash: kind === 'aggregate' && k === 0 && threads === 1,
        lateBudget: maxLate,
      });
    });
  }
  return { specs, fileOf, last };
}

/** Calls `each` with the results in job order, as soon as the earlier ones are in. */
export function inOrder(each: (r: JobResult, thread: number) => void): (r: JobResult, thread: number) => void {
  const waiting = new Map<number, [JobResult, number]>();
  let next = 0;
  return (r, thread) => {
    waiting.set(r.index, [r, thread]);
    for (let w = waiting.get(next); w !== undefined; w = waiting.get(next)) {
      waiting.delete(next++);
      each(w[0], w[1]);
    }
  };
}

/**
 * One id per address over every thread, in the order the threads' blocks name them (`all`), and each
 * thread's own ids mapped to them (`ids`), with the address of each thread id (`addr`).
 */
export class MergeIds {
  readonly all: NodeAddress[] = [];
  readonly ids: number[][] = [];
  readonly addr: NodeAddress[][] = [];
  private readonly id4 = new Map<number, number>();
  private readonly id6 = new Map<string, number>();

  /** A thread's nodes from its id `from` on. */
  add(thread: number, from: number, nodes: readonly NodeAddress[]): void {
    const ids = (this.ids[thread] ??= []);
    const addr = (this.addr[thread] ??= []);
    nodes.forEach((a, k) => {
      let id = a.v4 >= 0 ? this.id4.get(a.v4) : this.id6.get(a.v6);
      if (id === undefined) {
        id = this.all.length;
        this.all.push(a);
        if (a.v4 >= 0) this.id4.set(a.v4, id);
        else this.id6.set(a.v6, id);
      }
      ids[from + k] = id;
      addr[from + k] = a;
    });
  }
}

/** Files by time across subfolders (files without a record last), then by path. */
export function byTime(a: Planned, b: Planned): number {
  const t = (f: Planned): number => (f.orderMinute === f.orderMinute ? f.orderMinute : Infinity);
  return t(a) - t(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * The first pass's results (record times only), taken in job order: the minutes' record counts of
 * every file read to its end (`hist`), and each file's first record minute where its name gave none.
 * A file that fails is reported once through `onError` and left out; a range read on past a failure, or
 * a `Summary` line before a cut file's last range, means one thread must read again (SerialRerun).
 */
export class ScanResults {
  readonly hist = new Map<number, number>();
  private fileHist = new Map<number, number>();
  private fileFirst = NaN;
  private failedAt = -1;

  constructor(
    private readonly files: readonly Planned[],
    private readonly jobs: { fileOf: number[]; last: boolean[] },
    private readonly onError: (f: Planned, e: ErrorData) => void,
  ) {}

  take(r: JobResult): void {
    const i = this.jobs.fileOf[r.index];
    const f = this.files[i];
    const last = this.jobs.last[r.index];
    if (this.failedAt === i) {
      if (r.read > 0) throw new SerialRerun(`${f.path}: read on past a read error`);
    } else if (r.error !== null) {
      this.failedAt = i;
      this.onError(f, r.error);
    } else {
      if (!last && r.summaryLine > 0) throw new SerialRerun(`${f.path}: a Summary line before its end`);
      for (const [m, n] of r.hist) this.fileHist.set(m, (this.fileHist.get(m) ?? 0) + n);
      if (this.fileFirst !== this.fileFirst) this.fileFirst = r.firstMinute;
    }
    if (last) {
      if (this.failedAt !== i) {
        for (const [m, n] of this.fileHist) this.hist.set(m, (this.hist.get(m) ?? 0) + n);
        if (f.orderMinute !== f.orderMinute) f.orderMinute = this.fileFirst;
      }
      this.fileHist = new Map();
      this.fileFirst = NaN;
    }
  }
}

/**
 * With --from/--to there is no first pass: each file whose name gives no time is placed by its first
 * record's minute. A file that cannot be read or is not flow data goes to `onError`.
 */
export async function placeByFirstRecord(
  planned: readonly Planned[],
  opts: { signal?: AbortSignal; utcOffsetHours?: number },
  onError: (f: Planned, e: InputError) => void,
): Promise<void> {
  for (const f of planned) {
    if (f.orderMinute === f.orderMinute) continue;
    try {
      const { signal, utcOffsetHours } = opts;
      f.orderMinute = (await firstRecordMinute(f.path, f.format, { signal, utcOffsetHours })) ?? NaN;
    } catch (e) {
      if (opts.signal?.aborted) throw abortError();
      if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format')) throw e;
      onError(f, e);
    }
  }
}
