/**
 * `netflowgen serialize`: flow files in, series store out (SPEC §1). Streams every input, aggregates
 * node-minute features in bounded memory (chunks.ts), writes the store atomically.
 *
 * 1. Files: every file below the inputs; one that cannot be read or is not flow data is skipped and
 *    counted by reason (`unreadable_file`, `not_flow_data`), fatal under --strict.
 * 2. Time range: `--from/--to`, else from the bulk of the data (a first pass over the records'
 *    times, `bulkRange`): a stray record never stretches the store; records far outside the bulk are
 *    rejected as `time_outlier` with file and line. A store over `maxStoreBytes` without
 *    `--from/--to` needs confirming (`allowLarge`).
 * 3. Order: files by their time (nfcapd names carry it, others by their first record), across
 *    subfolders; each file has its own reorder window, and a file going back in time (a second
 *    exporter's file of the same hours) reopens the chunks it needs: overlapping files merge.
 *    Records that lag more than the window within their file are kept aside and added at the end
 *    (up to `maxLateRecords`; beyond, `out_of_order`).
 * 4. Truth: no record used is an error naming the likely cause; a share of rejected records above
 *    `maxRejectShare` (default 1%) is an error after the store is written (RejectShareError).
 * 5. Threads (`threads`, default the available cores up to 8): read jobs on worker threads, the
 *    series and the manifest those of one thread reading the files in order (plan.ts says how).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { N_FEATURES } from '../catalogue/features.js';
import {
  ESTIMATE_KINDS,
  InputError,
  REJECT_REASONS,
  SKIP_REASONS,
  type EstimateKind,
  type InputFormat,
  type SkipReason,
} from '../ingest/record.js';
import { detectFormat, expandInputs, nfcapdNameMinute } from '../ingest/index.js';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import { createProgress } from '../common/progress.js';
import { SeriesMerge } from './chunks.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from './inventory.js';
import { SerialRerun, type ByteRange, type ErrorData, type JobContext, type JobSpec } from './job.js';
import { runJobs } from './parallel.js';
import { defaultThreads, splitFile } from './split.js';
import { byTime, inOrder, MergeIds, placeByFirstRecord, planJobs, ScanResults } from './plan.js';
import type { Planned } from './scan.js';
import { DEFAULT_MAX_STORE_BYTES, serializeSettings, type SerializeOptions } from './options.js';
import { abortError, checkRejectShare, emptyMessage, sha256File } from './outcome.js';
import { activeMinutes, bulkRange, checkStoreSize } from './range.js';
import {
  DATA_FILE,
  MANIFEST,
  STORE_SCHEMA,
  type RejectExample,
  type SeriesStoreManifest,
  type SkippedFile,
  type StoreInput,
} from './store.js';
import { storeManifest } from './manifest.js';

// What moved out of this file stays importable from here.
export * from './options.js';
export { RejectShareError, sha256File } from './outcome.js';
export * from './range.js';
export { SKIP_REASONS };

export async function serialize(opts: SerializeOptions): Promise<SeriesStoreManifest> {
  const { sampling, reorder, chunkMinutes, maxExamples, maxLate, maxRejectShare, givenFrom, givenTo, rangeGiven } =
    serializeSettings(opts);

  await checkOutputDir(opts.out, { overwrite: opts.force, inputs: [...opts.inputs, opts.nodes] });
  const inventory = new NodeRegistry();
  if (opts.nodes) await loadInventory(opts.nodes, inventory);
  if (opts.prefixes?.length) parsePrefixOptions(opts.prefixes, inventory);
  if (inventory.isEmpty())
    throw new Error('no nodes: give a node inventory (--nodes inventory.csv) or --prefix CIDR[=CUSTOMER]');

  const found = await expandInputs(opts.inputs);
  if (found.length === 0) throw new Error(`no input files found in ${opts.inputs.join(', ')}`);

  const threadsWanted = opts.threads ?? defaultThreads();
  if (!(Number.isInteger(threadsWanted) && threadsWanted >= 1))
    throw new Error(`--threads must be a positive integer, got ${opts.threads}`);
  // Fractions (shares of spread flows, a fractional sampling rate) make float sums depend on their order: one thread.
  const threadsUsable = opts.spreadLongFlows || !Number.isInteger(sampling) ? 1 : threadsWanted;

  return withAtomicDir(
    opts.out,
    async (tmp) => {
      try {
        return await build(tmp, threadsUsable);
      } catch (e) {
        if (!(e instanceof SerialRerun)) throw e;
        return build(tmp, 1);
      }
    },
    { overwrite: opts.force, inputs: [...opts.inputs, opts.nodes] },
  ).then((manifest) => checkRejectShare(manifest, opts.out, maxRejectShare));

  async function build(tmp: string, threads: number): Promise<SeriesStoreManifest> {
    {
      const counts = { read: 0, used: 0, unmatched: 0, outsideRange: 0 };
      const rejected: Record<string, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0]));
      const examples: RejectExample[] = [];
      const examplesOf: Record<string, number> = {};
      const estimated: Record<EstimateKind, number> = Object.fromEntries(ESTIMATE_KINDS.map((k) => [k, 0])) as Record<
        EstimateKind,
        number
      >;
      const inputs: StoreInput[] = [];
      const skipped: SkippedFile[] = [];
      const skippedPaths = new Set<string>();
      const registry = new NodeRegistry();
      if (opts.nodes) await loadInventory(opts.nodes, registry);
      if (opts.prefixes?.length) parsePrefixOptions(opts.prefixes, registry);
      // With threads, what the user is told waits until the run is known not to be read again on one thread.
      const told: (() => void)[] = [];
      const tell = (fn: () => void): void => void (threads > 1 ? told.push(fn) : fn());
      const tellAll = (): void => {
        for (const fn of told.splice(0)) fn();
      };

      const skip = (path: string, reason: SkipReason, err: unknown, recordsKept = 0): void => {
        const detail =
          err instanceof InputError ? err.message.replace(/^[^:]*(:\d+)?: (io|format): /, '') : (err as Error).message;
        if (opts.strict) {
          tellAll();
          throw err instanceof InputError
            ? err
            : new InputError(reason === 'unreadable_file' ? 'io' : 'format', { file: path }, '', detail);
        }
        const s: SkippedFile = { path, reason, detail, ...(recordsKept > 0 ? { recordsKept } : {}) };
        skipped.push(s);
        skippedPaths.add(path);
        tell(() => opts.onSkip?.(s));
      };
      const whySkipped = (format: InputFormat | null, e: InputError): SkipReason =>
        e.reason === 'io' || format === 'nfcapd' ? 'unreadable_file' : 'not_flow_data';

      // ---- 1. formats (a file that is not flow data is skipped, counted)
      const planned: Planned[] = [];
      for (const path of found) {
        if (opts.signal?.aborted) throw abortError();
        let format: InputFormat;
        try {
          format = opts.format ?? (await detectFormat(path));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          skip(path, whySkipped(null, e), e);
          continue;
        }
        planned.push({ path, bytes: (await fsp.stat(path)).size, format, orderMinute: nfcapdNameMinute(path) ?? NaN });
      }
      const totalBytes = planned.reduce((a, f) => a + f.bytes, 0);
      const ranges = new Map<string, ByteRange[] | null>();
      const rangesOf = async (f: Planned): Promise<ByteRange[] | null> => {
        if (!ranges.has(f.path))
          ranges.set(f.path, threads > 1 ? await splitFile(f, threads, opts.splitMinBytes) : null);
        return ranges.get(f.path)!;
      };
      const ctx: JobContext = {
        nodes: opts.nodes,
        prefixes: opts.prefixes,
        utcOffsetHours: opts.utcOffsetHours,
        spreadLongFlows: Boolean(opts.spreadLongFlows),
        givenFrom,
        givenTo,
        lo: givenFrom,
        hi: givenTo,
        reorder,
        chunkMinutes,
        sampling,
        strict: Boolean(opts.strict),
        maxExamples,
        maxLate,
      };
      const jobsFor = (kind: JobSpec['kind'], fs: readonly Planned[]) => planJobs(kind, fs, rangesOf, threads, maxLate);
      const jobBytes: number[] = [];
      let doneBytes = 0;
      const bytesSoFar = (index: number, bytes: number): number => {
        doneBytes += bytes - (jobBytes[index] ?? 0);
        jobBytes[index] = bytes;
        return doneBytes;
      };
      const errorOf = (e: ErrorData): InputError =>
        new InputError(e.reason, { file: e.file, line: e.line }, e.field, e.detail);

      // ---- 2. time range: given, or the bulk of the data from a first pass over the records' times
      let lo = givenFrom;
      let hi = givenTo;
      let bulk: ReturnType<typeof bulkRange> = null;
      let active = NaN;
      if (!rangeGiven) {
        const { specs, fileOf, last } = await jobsFor('scan', planned);
        const scanBar = createProgress(
          'serialize: times',
          totalBytes,
          '{bar} {percentage}% | {mb} MB | ETA {eta_formatted}',
        );
        const scan = new ScanResults(planned, { fileOf, last }, (f, e) =>
          skip(f.path, whySkipped(f.format, errorOf(e)), errorOf(e)),
        );
        try {
          await runJobs(
            specs,
            ctx,
            threads,
            {
              nodes() {},
              blocks() {},
              prepare: (spec) => spec,
              progress(index, bytes) {
                const b = bytesSoFar(index, bytes);
                scanBar.update(b, { mb: (b / 1e6).toFixed(1) });
              },
              done: inOrder((r) => scan.take(r)),
            },
            opts.signal,
          );
        } finally {
          scanBar.stop();
        }
        const hist = scan.hist;
        bulk = bulkRange(hist);
        if (bulk) {
          if (!Number.isFinite(lo)) lo = bulk.start;
          if (!Number.isFinite(hi)) hi = bulk.end;
          active = activeMinutes(hist, lo, hi);
        }
      } else {
        await placeByFirstRecord(planned, opts, (f, e) => skip(f.path, whySkipped(f.format, e), e));
      }
      const files = planned.filter((f) => !skippedPaths.has(f.path));
      // ---- 3. order: by time across subfolders (files without a record last), then by path
      files.sort(byTime);

      const rangeKnown = Number.isFinite(lo) && Number.isFinite(hi);
      const sizeCheck = (nodes: number): void => {
        if (rangeKnown && !rangeGiven && !opts.allowLarge)
          checkStoreSize(lo, hi, active, nodes, opts.maxStoreBytes ?? DEFAULT_MAX_STORE_BYTES);
      };
      sizeCheck(registry.size);

      // ---- 4. the records: jobs (files, or ranges of one) on threads, blocks merged as they come, results in order
      ctx.lo = lo;
      ctx.hi = hi;
      const merge = new SeriesMerge(join(tmp, 'spill.tmp'), chunkMinutes, N_FEATURES);
      const progress = createProgress(
        'serialize',
        totalBytes,
        '{bar} {percentage}% | {rate} rec/s | {mb} MB | ETA {eta_formatted}',
      );
      const t0 = Date.now();
      jobBytes.length = 0;
      doneBytes = 0;
      // merge node ids: one per address, in the order blocks name them; threads' own ids map to them
      const ids = new MergeIds();
      let lateRecords = 0;
      let peakOpenChunks = 0;
      const { specs, fileOf, last } = await jobsFor('aggregate', files);
      let cur = -1; // the file whose ranges are being taken in
      let lineOffset = 0;
      let newest = -Infinity;
      let fileRecords = 0;
      let failed = false;
      let sha256: string | null = null;
      const hashes = new Map<string, Promise<string>>();
      const hashStop = new AbortController();
      const hashed: { input: StoreInput; hash: Promise<string> }[] = [];
      try {
        await runJobs(
          specs,
          ctx,
          threads,
          {
            nodes: (thread, from, nodes) => ids.add(thread, from, nodes),
            blocks(thread, _index, start, nodes, data) {
              const size = chunkMinutes * N_FEATURES;
              // a worker's message is ours to keep; this thread's own blocks go back to its window's pool
              for (let k = 0; k < nodes.length; k++)
                merge.add(start, ids.ids[thread][nodes[k]], data, k * size, threads > 1);
            },
            prepare: (spec) => {
              if (threads === 1) {
                // each file's late records may use what the files before left of --max-late-records
                return { ...spec, lateBudget: maxLate - lateRecords };
              }
              if (spec.range === null || spec.range.header === null) {
                const hash = sha256File(spec.path, hashStop.signal);
                hash.catch(() => undefined); // awaited once the file is taken in (a skipped file's is not)
                hashes.set(spec.path, hash);
              }
              return spec;
            },
            progress(index, bytes) {
              const b = bytesSoFar(index, bytes);
              const secs = (Date.now() - t0) / 1000;
              progress.update(b, {
                rate: secs > 0 ? Math.round(counts.read / secs) : 0,
                mb: (b / 1e6).toFixed(1),
              });
            },
            done: inOrder((r, thread) => {
              const i = fileOf[r.index];
              const f = files[i];
              if (i !== cur) {
                cur = i;
                lineOffset = 0;
                newest = -Infinity;
                fileRecords = 0;
                failed = false;
                sha256 = null;
              }
              if (failed) {
                if (r.read > 0) throw new SerialRerun(`${f.path}: read on past a read error`);
              } else {
                // nodes in the order the job first met them: the registry's order is the one-thread order
                const addr = ids.addr[thread];
                for (const id of r.seen) {
                  const a = addr[id];
                  if (a.v4 >= 0) registry.node4(a.v4);
                  else registry.node6(a.v6);
                }
                // records late only with respect to an earlier range of the file (one thread would have kept them aside)
                let late = r.late;
                if (newest > -Infinity) for (const [m, n] of r.placed) if (m < newest - reorder) late += n;
                newest = Math.max(newest, r.newest);
                lateRecords += late;
                if (threads > 1 && (lateRecords > maxLate || (r.rejected.out_of_order ?? 0) > 0))
                  throw new SerialRerun(`more than ${maxLate} late records`);
                const shown: Record<string, number> = {};
                for (const ex of r.examples) {
                  const e = { ...ex, line: ex.line + lineOffset };
                  shown[e.reason] = (shown[e.reason] ?? 0) + 1;
                  if ((examplesOf[e.reason] = (examplesOf[e.reason] ?? 0) + 1) <= maxExamples) examples.push(e);
                  tell(() => opts.onReject?.(e));
                }
                for (const [reason, n] of Object.entries(r.rejected)) {
                  rejected[reason] += n;
                  examplesOf[reason] = (examplesOf[reason] ?? 0) + n - (shown[reason] ?? 0);
                }
                if (r.fatal !== null) {
                  tellAll();
                  throw errorOf({ ...r.fatal, line: (r.fatal.line ?? 0) + lineOffset });
                }
                for (const [what, n] of Object.entries(r.estimated)) estimated[what as EstimateKind] += n;
                counts.read += r.read;
                counts.used += r.used;
                counts.unmatched += r.unmatched;
                counts.outsideRange += r.outsideRange;
                fileRecords += r.read;
                if (Number.isFinite(r.minMinute)) merge.touch(r.minMinute, r.lastMinute);
                peakOpenChunks = Math.max(peakOpenChunks, r.peakOpenChunks);
                if (r.sha256 !== null) sha256 = r.sha256;
                if (r.error !== null) {
                  // damaged part-way: what was read before is kept and counted
                  failed = true;
                  const e = errorOf({
                    ...r.error,
                    line: r.error.line === undefined ? undefined : r.error.line + lineOffset,
                  });
                  skip(f.path, whySkipped(f.format, e), e, fileRecords);
                } else if (!last[r.index] && r.summaryLine > 0)
                  throw new SerialRerun(`${f.path}: a Summary line before its end`);
                lineOffset += r.lines;
              }
              if (last[r.index] && !failed) {
                const input = {
                  path: f.path,
                  format: f.format,
                  bytes: f.bytes,
                  sha256: sha256 ?? '',
                  records: fileRecords,
                };
                inputs.push(input);
                if (sha256 === null) hashed.push({ input, hash: hashes.get(f.path)! });
              }
            }),
          },
          opts.signal,
        );
        for (const h of hashed) h.input.sha256 = await h.hash;
        progress.update(totalBytes, {
          rate: Math.round(counts.read / Math.max(1e-3, (Date.now() - t0) / 1000)),
          mb: (totalBytes / 1e6).toFixed(1),
        });
      } catch (e) {
        hashStop.abort();
        await Promise.allSettled(hashes.values());
        merge.close();
        if (!(e instanceof SerialRerun)) tellAll();
        throw e;
      } finally {
        progress.stop();
      }
      tellAll();
      if (opts.signal?.aborted) {
        merge.close();
        throw abortError();
      }

      const rejectedTotal = Object.values(rejected).reduce((a, b) => a + b, 0);
      if (counts.used === 0) {
        merge.close();
        throw new Error(emptyMessage(opts, counts, rejectedTotal, rejected, skipped, files.length));
      }

      // Time range and node order.
      const startMinute = Number.isFinite(lo) ? lo : merge.minMinute;
      const endMinute = Number.isFinite(hi) ? hi : merge.lastMinute + 1;
      const minutes = Math.max(0, endMinute - startMinute);
      const { order, nodes } = registry.finalOrder();
      try {
        sizeCheck(nodes.length);
      } catch (e) {
        merge.close();
        throw e;
      }
      const rowOf = new Int32Array(registry.size).fill(-1);
      order.forEach((temp, row) => (rowOf[temp] = row));
      const finalId = Int32Array.from(
        ids.all,
        (a) => rowOf[a.v4 >= 0 ? registry.node4(a.v4) : registry.node6(a.v6)] ?? -1,
      );
      const dataBytes = merge.writeSeries(join(tmp, DATA_FILE), finalId, nodes.length, startMinute, minutes);

      const manifest = storeManifest(opts, {
        startMinute,
        endMinute,
        minutes,
        nodes,
        dataBytes,
        inputs,
        skipped,
        records: { ...counts, rejected, examples, estimated },
        sampling,
        rangeGiven,
        bulk,
        lateRecords,
        peakOpenChunks,
        reorder,
        chunkMinutes,
        maxRejectShare,
        inventory: registry.stats(),
      });
      validateWithSchema(STORE_SCHEMA, manifest, `${opts.out}/${MANIFEST}`);
      await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    }
  }
}
