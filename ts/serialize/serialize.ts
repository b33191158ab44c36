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
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, N_FEATURES } from '../catalogue/features.js';
import {
  ESTIMATE_KINDS,
  InputError,
  REJECT_REASONS,
  SKIP_REASONS,
  type EstimateKind,
  type FlowRecord,
  type InputFormat,
  type RecordSink,
  type RejectReason,
  type SkipReason,
  type SourceLocation,
} from '../ingest/record.js';
import { detectFormat, expandInputs, firstRecordMinute, nfcapdNameMinute, readerFor } from '../ingest/index.js';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import { createProgress } from '../common/progress.js';
import { addRecord } from './aggregate.js';
import { ChunkedAccumulator } from './chunks.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from './inventory.js';
import { LateRecords } from './late.js';
import { timeHistogram, type Planned } from './scan.js';
import {
  DEFAULT_MAX_LATE_RECORDS,
  DEFAULT_MAX_REJECT_SHARE,
  DEFAULT_MAX_STORE_BYTES,
  type SerializeOptions,
} from './options.js';
import { abortError, checkRejectShare, emptyMessage, sha256File } from './outcome.js';
import {
  OUTLIER_GAP_MINUTES,
  OUTLIER_TAIL_SHARE,
  STRETCH_EMPTY_MINUTES,
  STRETCH_FACTOR,
  activeMinutes,
  bulkRange,
  checkStoreSize,
} from './range.js';
import {
  DATA_FILE,
  MANIFEST,
  STORE_SCHEMA,
  isoToMinute,
  minuteToIso,
  type RejectExample,
  type SeriesStoreManifest,
  type SkippedFile,
  type StoreInput,
} from './store.js';
import { VERSION } from '../common/version.js';

// What moved out of this file stays importable from here.
export * from './options.js';
export { RejectShareError, sha256File } from './outcome.js';
export * from './range.js';
export { SKIP_REASONS };

export async function serialize(opts: SerializeOptions): Promise<SeriesStoreManifest> {
  const sampling = opts.sampling ?? 1;
  if (!(sampling > 0)) throw new Error(`--sampling must be a positive number, got ${opts.sampling}`);
  const reorder = opts.reorderMinutes ?? 60;
  const chunkMinutes = opts.chunkMinutes ?? 60;
  const maxExamples = opts.maxExamples ?? 20;
  const maxLate = opts.maxLateRecords ?? DEFAULT_MAX_LATE_RECORDS;
  const maxRejectShare = opts.maxRejectShare ?? DEFAULT_MAX_REJECT_SHARE;
  if (!(maxRejectShare >= 0 && maxRejectShare <= 1))
    throw new Error(`--max-reject-share must be a share between 0 and 1, got ${opts.maxRejectShare}`);
  const givenFrom = opts.from !== undefined ? isoToMinute(opts.from) : -Infinity;
  const givenTo = opts.to !== undefined ? isoToMinute(opts.to) : Infinity;
  if (givenFrom >= givenTo) throw new Error(`--from (${opts.from}) must be before --to (${opts.to})`);
  const rangeGiven = opts.from !== undefined && opts.to !== undefined;

  await checkOutputDir(opts.out, { overwrite: opts.force, inputs: [...opts.inputs, opts.nodes] });
  const registry = new NodeRegistry();
  if (opts.nodes) await loadInventory(opts.nodes, registry);
  if (opts.prefixes?.length) parsePrefixOptions(opts.prefixes, registry);
  if (registry.isEmpty())
    throw new Error('no nodes: give a node inventory (--nodes inventory.csv) or --prefix CIDR[=CUSTOMER]');

  const found = await expandInputs(opts.inputs);
  if (found.length === 0) throw new Error(`no input files found in ${opts.inputs.join(', ')}`);

  return withAtomicDir(
    opts.out,
    async (tmp) => {
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

      const skip = (path: string, reason: SkipReason, err: unknown, recordsKept = 0): void => {
        const detail =
          err instanceof InputError ? err.message.replace(/^[^:]*(:\d+)?: (io|format): /, '') : (err as Error).message;
        if (opts.strict)
          throw err instanceof InputError
            ? err
            : new InputError(reason === 'unreadable_file' ? 'io' : 'format', { file: path }, '', detail);
        const s: SkippedFile = { path, reason, detail, ...(recordsKept > 0 ? { recordsKept } : {}) };
        skipped.push(s);
        skippedPaths.add(path);
        opts.onSkip?.(s);
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

      // ---- 2. time range: given, or the bulk of the data from a first pass over the records' times
      let lo = givenFrom;
      let hi = givenTo;
      let bulk: ReturnType<typeof bulkRange> = null;
      let active = NaN;
      if (!rangeGiven) {
        const hist = await timeHistogram(planned, totalBytes, opts, givenFrom, givenTo, (f, e) =>
          skip(f.path, whySkipped(f.format, e), e),
        );
        bulk = bulkRange(hist);
        if (bulk) {
          if (!Number.isFinite(lo)) lo = bulk.start;
          if (!Number.isFinite(hi)) hi = bulk.end;
          active = activeMinutes(hist, lo, hi);
        }
      } else {
        for (const f of planned) {
          if (f.orderMinute === f.orderMinute) continue;
          try {
            f.orderMinute =
              (await firstRecordMinute(f.path, f.format, {
                signal: opts.signal,
                utcOffsetHours: opts.utcOffsetHours,
              })) ?? NaN;
          } catch (e) {
            if (opts.signal?.aborted) throw abortError();
            if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format')) throw e;
            skip(f.path, whySkipped(f.format, e), e);
          }
        }
      }
      const files = planned.filter((f) => !skippedPaths.has(f.path));
      // ---- 3. order: by time across subfolders (files without a record last), then by path
      files.sort(
        (a, b) =>
          (a.orderMinute === a.orderMinute ? a.orderMinute : Infinity) -
            (b.orderMinute === b.orderMinute ? b.orderMinute : Infinity) ||
          (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
      );

      const rangeKnown = Number.isFinite(lo) && Number.isFinite(hi);
      const sizeCheck = (nodes: number): void => {
        if (rangeKnown && !rangeGiven && !opts.allowLarge)
          checkStoreSize(lo, hi, active, nodes, opts.maxStoreBytes ?? DEFAULT_MAX_STORE_BYTES);
      };
      sizeCheck(registry.size);

      // ---- 4. the records, file by file
      const acc = new ChunkedAccumulator(join(tmp, 'spill.tmp'), chunkMinutes, N_FEATURES, reorder);
      const late = new LateRecords();
      const progress = createProgress(
        'serialize',
        totalBytes,
        '{bar} {percentage}% | {rate} rec/s | {mb} MB | ETA {eta_formatted}',
      );
      const t0 = Date.now();
      let bytesBefore = 0;
      let fileRecords = 0;

      const noteReject = (reason: RejectReason, loc: SourceLocation, field: string, detail: string): void => {
        rejected[reason]++;
        const ex = { reason, file: loc.file, line: loc.line, field, detail };
        if ((examplesOf[reason] = (examplesOf[reason] ?? 0) + 1) <= maxExamples) examples.push(ex);
        opts.onReject?.(ex);
        if (opts.strict) throw new InputError(reason, { file: loc.file, line: loc.line }, field, detail);
      };
      const reject = (reason: RejectReason, loc: SourceLocation, field: string, detail: string): void => {
        counts.read++;
        fileRecords++;
        noteReject(reason, loc, field, detail);
      };
      const rangeText = () => `${minuteToIso(lo)} to ${minuteToIso(hi)}`;

      /** Adds a record to its minutes; false when its minute is behind the window (the caller keeps it aside). */
      const place = (rec: FlowRecord, s: number, d: number, minute: number): boolean => {
        const chunk = acc.chunkFor(minute);
        if (chunk === null) return false;
        const endMinute =
          opts.spreadLongFlows && rec.endMs > rec.startMs ? Math.min(Math.floor(rec.endMs / 60_000), hi - 1) : minute;
        if (endMinute <= minute) {
          const off = chunk.offset(minute);
          addRecord(rec, s >= 0 ? chunk.block(s) : null, off, d >= 0 ? chunk.block(d) : null, off, sampling);
          acc.touch(minute);
        } else {
          const dur = rec.endMs - rec.startMs;
          for (let m = minute; m <= endMinute; m++) {
            const c = m === minute ? chunk : acc.chunkFor(m, false);
            if (c === null) continue;
            const share = (Math.min(rec.endMs, (m + 1) * 60_000) - Math.max(rec.startMs, m * 60_000)) / dur;
            const off = c.offset(m);
            addRecord(
              rec,
              s >= 0 ? c.block(s) : null,
              off,
              d >= 0 ? c.block(d) : null,
              off,
              sampling,
              share,
              m === minute,
            );
            acc.touch(m);
          }
        }
        return true;
      };

      const sink: RecordSink = {
        record(rec: FlowRecord, loc: SourceLocation): void {
          counts.read++;
          fileRecords++;
          const minute = Math.floor(rec.startMs / 60_000);
          if (minute < givenFrom || minute >= givenTo) {
            counts.outsideRange++;
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
          if (s < 0 && d < 0) {
            counts.unmatched++;
            return;
          }
          if (!place(rec, s, d, minute)) {
            if (late.n >= maxLate) {
              noteReject(
                'out_of_order',
                loc,
                'ts',
                `flow starts at ${minuteToIso(minute)}, more than ${reorder} minutes before the newest record of its file, and ${maxLate} such records are already kept aside (raise --reorder-minutes, or give the records in time order)`,
              );
              return;
            }
            late.push(rec, s, d);
          }
          counts.used++;
        },
        reject,
        estimated(what: EstimateKind): void {
          estimated[what]++;
        },
        progress(bytesRead: number): void {
          const secs = (Date.now() - t0) / 1000;
          progress.update(bytesBefore + bytesRead, {
            rate: secs > 0 ? Math.round(counts.read / secs) : 0,
            mb: ((bytesBefore + bytesRead) / 1e6).toFixed(1),
          });
        },
      };

      try {
        for (const f of files) {
          if (opts.signal?.aborted) throw abortError();
          fileRecords = 0;
          acc.beginFile();
          // Hash while reading (the file is read twice, concurrently, from the page cache); a failed read stops the hash.
          const stopHash = new AbortController();
          const hashing = sha256File(f.path, stopHash.signal);
          try {
            await readerFor(f.format).read(f.path, sink, { signal: opts.signal, utcOffsetHours: opts.utcOffsetHours });
          } catch (e) {
            stopHash.abort();
            await hashing.catch(() => undefined);
            if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format') || opts.signal?.aborted)
              throw e;
            // Damaged part-way (found now: no first pass with --from/--to): what was read before is kept and counted.
            skip(f.path, whySkipped(f.format, e), e, fileRecords);
            bytesBefore += f.bytes;
            continue;
          }
          const sha256 = await hashing;
          if (opts.signal?.aborted) throw abortError();
          inputs.push({ path: f.path, format: f.format, bytes: f.bytes, sha256, records: fileRecords });
          bytesBefore += f.bytes;
        }
        // the late records, in time order
        acc.beginFile();
        late.replay((rec, s, d) => void place(rec, s, d, Math.floor(rec.startMs / 60_000)));
        progress.update(totalBytes, {
          rate: Math.round(counts.read / Math.max(1e-3, (Date.now() - t0) / 1000)),
          mb: (totalBytes / 1e6).toFixed(1),
        });
      } catch (e) {
        acc.close();
        throw e;
      } finally {
        progress.stop();
      }

      const rejectedTotal = Object.values(rejected).reduce((a, b) => a + b, 0);
      if (counts.used === 0) {
        acc.close();
        throw new Error(emptyMessage(opts, counts, rejectedTotal, rejected, skipped, files.length));
      }

      // Time range and node order.
      const startMinute = Number.isFinite(lo) ? lo : acc.minMinute;
      const endMinute = Number.isFinite(hi) ? hi : acc.lastMinute + 1;
      const minutes = Math.max(0, endMinute - startMinute);
      const { order, nodes } = registry.finalOrder();
      try {
        sizeCheck(nodes.length);
      } catch (e) {
        acc.close();
        throw e;
      }
      const finalId = new Int32Array(registry.size).fill(-1);
      order.forEach((temp, row) => (finalId[temp] = row));
      const dataBytes = acc.writeSeries(join(tmp, DATA_FILE), finalId, nodes.length, startMinute, minutes);

      const manifest: SeriesStoreManifest = {
        kind: 'netflowgen.series-store',
        schemaVersion: 1,
        createdBy: `netflowgen ${VERSION}`,
        features: [...FEATURE_NAMES],
        dtype: 'float32',
        layout: 'node-major',
        dataFile: DATA_FILE,
        dataBytes,
        startMinute,
        firstMinute: minuteToIso(startMinute),
        minutes,
        nodes,
        customers: [...new Set(nodes.map((n) => n.customer))],
        sampling,
        inputs,
        skipped,
        records: { ...counts, rejected, examples, estimated },
        options: {
          format: opts.format ?? 'detect',
          from: opts.from ?? null,
          to: opts.to ?? null,
          timeRange: rangeGiven
            ? { source: '--from/--to', from: minuteToIso(startMinute), to: minuteToIso(endMinute) }
            : {
                source: 'bulk of the data',
                from: minuteToIso(startMinute),
                to: minuteToIso(endMinute),
                rule: `at most max(1, ${OUTLIER_TAIL_SHARE * 100}% of the records) at each end, separated from the rest by more than ${OUTLIER_GAP_MINUTES} minutes, are time outliers; a store more than ${STRETCH_FACTOR}x longer than its hours with records (and over ${STRETCH_EMPTY_MINUTES} minutes longer) needs --allow-large`,
                ...(bulk ? { recordsInside: bulk.records } : {}),
              },
          reorderMinutes: reorder,
          lateRecords: late.n,
          chunkMinutes,
          spreadLongFlows: Boolean(opts.spreadLongFlows),
          utcOffsetHours: opts.utcOffsetHours ?? 0,
          maxRejectShare,
          timeRule: opts.spreadLongFlows
            ? 'packets and bytes spread over the minutes a flow spans; flow counted in its start minute'
            : 'flow counted in the minute of its start time',
          fileOrder:
            'by time: the nfcapd name, else the first record; each file has its own reorder window, overlapping files are merged',
          inventory: { ...registry.stats(), rule: 'overlapping entries: the longest prefix wins' },
          peakOpenChunks: acc.stats.peakOpenChunks,
        },
      };
      validateWithSchema(STORE_SCHEMA, manifest, `${opts.out}/${MANIFEST}`);
      await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    },
    { overwrite: opts.force, inputs: [...opts.inputs, opts.nodes] },
  ).then((manifest) => checkRejectShare(manifest, opts.out, maxRejectShare));
}
