/**
 * `netflowgen serialize`: flow files in, series store out (SPEC §1). Streams every input once,
 * aggregates node-minute features in bounded memory (chunks.ts), writes the store atomically.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, N_FEATURES } from '../catalogue/features.js';
import { InputError, REJECT_REASONS, type FlowRecord, type InputFormat, type RecordSink, type RejectReason, type SourceLocation } from '../ingest/record.js';
import { detectFormat, expandInputs, readerFor } from '../ingest/index.js';
import { withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import { createProgress } from '../common/progress.js';
import { addRecord } from './aggregate.js';
import { ChunkedAccumulator } from './chunks.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from './inventory.js';
import { DATA_FILE, MANIFEST, STORE_SCHEMA, isoToMinute, minuteToIso, type RejectExample, type SeriesStoreManifest, type StoreInput } from './store.js';
import { VERSION } from '../common/version.js';

export interface SerializeOptions {
  /** Flow files or directories (directories: every flow file below, sorted by name). */
  inputs: string[];
  /** Node inventory CSV (`prefix,customer[,role]`). */
  nodes?: string;
  /** Prefixes given on the command line, `CIDR[=CUSTOMER]`, in addition to (or instead of) an inventory. */
  prefixes?: string[];
  out: string;
  /** Force one input format instead of detecting it per file. */
  format?: InputFormat;
  /** Keep minutes in [from, to) (ISO 8601, UTC). Default: from the first to the last minute with data. */
  from?: string;
  to?: string;
  /** Packet sampling 1:N: packets, bytes and flows are multiplied by N. */
  sampling?: number;
  /** First bad record is fatal. */
  strict?: boolean;
  /** Replace an existing store. */
  force?: boolean;
  /** Spread a long flow's packets and bytes over the minutes it spans (its flow counts once, in its start minute). */
  spreadLongFlows?: boolean;
  /** How many minutes a record may lag behind the newest record seen (default 60). Older records are rejected as out_of_order. */
  reorderMinutes?: number;
  /** Minutes per in-memory chunk (default 60). */
  chunkMinutes?: number;
  /** Hours to add to naive timestamps of the input to reach UTC. */
  utcOffsetHours?: number;
  /** How many bad-record examples the manifest keeps (default 20). */
  maxExamples?: number;
  signal?: AbortSignal;
  /** Called with each bad record (the CLI prints the first ones). */
  onReject?: (example: RejectExample) => void;
}

export async function serialize(opts: SerializeOptions): Promise<SeriesStoreManifest> {
  const sampling = opts.sampling ?? 1;
  if (!(sampling > 0)) throw new Error(`--sampling must be a positive number, got ${opts.sampling}`);
  const reorder = opts.reorderMinutes ?? 60;
  const chunkMinutes = opts.chunkMinutes ?? 60;
  const maxExamples = opts.maxExamples ?? 20;
  const from = opts.from !== undefined ? isoToMinute(opts.from) : -Infinity;
  const to = opts.to !== undefined ? isoToMinute(opts.to) : Infinity;
  if (from >= to) throw new Error(`--from (${opts.from}) must be before --to (${opts.to})`);

  const registry = new NodeRegistry();
  if (opts.nodes) await loadInventory(opts.nodes, registry);
  if (opts.prefixes?.length) parsePrefixOptions(opts.prefixes, registry);
  if (registry.isEmpty()) throw new Error('no nodes: give a node inventory (--nodes inventory.csv) or --prefix CIDR[=CUSTOMER]');

  const files = await expandInputs(opts.inputs);
  if (files.length === 0) throw new Error(`no input files found in ${opts.inputs.join(', ')}`);
  const sizes = await Promise.all(files.map(async (f) => (await fsp.stat(f)).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);

  return withAtomicDir(
    opts.out,
    async (tmp) => {
      const acc = new ChunkedAccumulator(join(tmp, 'spill.tmp'), chunkMinutes, N_FEATURES, reorder);
      const counts = { read: 0, used: 0, unmatched: 0, outsideRange: 0 };
      const rejected: Record<string, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0]));
      const examples: RejectExample[] = [];
      const inputs: StoreInput[] = [];
      const progress = createProgress('serialize', totalBytes, '{bar} {percentage}% | {rate} rec/s | {mb} MB | ETA {eta_formatted}');
      const t0 = Date.now();
      let bytesBefore = 0;
      let fileRecords = 0;

      const noteReject = (reason: RejectReason, loc: SourceLocation, field: string, detail: string): void => {
        rejected[reason]++;
        const ex = { reason, file: loc.file, line: loc.line, field, detail };
        if (examples.length < maxExamples) examples.push(ex);
        opts.onReject?.(ex);
        if (opts.strict) throw new InputError(reason, { file: loc.file, line: loc.line }, field, detail);
      };
      const reject = (reason: RejectReason, loc: SourceLocation, field: string, detail: string): void => {
        counts.read++;
        fileRecords++;
        noteReject(reason, loc, field, detail);
      };

      const sink: RecordSink = {
        record(rec: FlowRecord, loc: SourceLocation): void {
          counts.read++;
          fileRecords++;
          const minute = Math.floor(rec.startMs / 60_000);
          if (minute < from || minute >= to) {
            counts.outsideRange++;
            return;
          }
          const s = rec.src4 >= 0 ? registry.node4(rec.src4) : registry.node6(rec.src6);
          const d = rec.dst4 >= 0 ? registry.node4(rec.dst4) : registry.node6(rec.dst6);
          if (s < 0 && d < 0) {
            counts.unmatched++;
            return;
          }
          const endMinute = opts.spreadLongFlows && rec.endMs > rec.startMs ? Math.min(Math.floor(rec.endMs / 60_000), to - 1) : minute;
          const chunk = acc.chunkFor(minute);
          if (chunk === null) {
            noteReject('out_of_order', loc, 'ts', `flow starts at ${minuteToIso(minute)}, more than ${reorder} minutes before the newest record seen (raise --reorder-minutes, or give inputs in time order)`);
            return;
          }
          if (endMinute === minute) {
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
              addRecord(rec, s >= 0 ? c.block(s) : null, off, d >= 0 ? c.block(d) : null, off, sampling, share, m === minute);
              acc.touch(m);
            }
          }
          counts.used++;
        },
        reject,
        progress(bytesRead: number): void {
          const secs = (Date.now() - t0) / 1000;
          progress.update(bytesBefore + bytesRead, { rate: secs > 0 ? Math.round(counts.read / secs) : 0, mb: ((bytesBefore + bytesRead) / 1e6).toFixed(1) });
        },
      };

      try {
        for (let i = 0; i < files.length; i++) {
          const file = files[i];
          if (opts.signal?.aborted) throw abortError();
          const format = opts.format ?? (await detectFormat(file));
          fileRecords = 0;
          // Hash while reading (the file is read twice, concurrently, from the page cache); a failed read stops the hash.
          const stopHash = new AbortController();
          const hashing = sha256File(file, stopHash.signal);
          try {
            await readerFor(format).read(file, sink, { signal: opts.signal, utcOffsetHours: opts.utcOffsetHours });
          } catch (e) {
            stopHash.abort();
            await hashing.catch(() => undefined);
            throw e;
          }
          const sha256 = await hashing;
          if (opts.signal?.aborted) throw abortError();
          inputs.push({ path: file, format, bytes: sizes[i], sha256, records: fileRecords });
          bytesBefore += sizes[i];
        }
        progress.update(totalBytes, { rate: Math.round(counts.read / Math.max(1e-3, (Date.now() - t0) / 1000)), mb: (totalBytes / 1e6).toFixed(1) });
      } catch (e) {
        acc.close();
        throw e;
      } finally {
        progress.stop();
      }

      // Time range and node order.
      const startMinute = Number.isFinite(from) ? from : Number.isFinite(acc.minMinute) ? acc.minMinute : 0;
      const endMinute = Number.isFinite(to) ? to : Number.isFinite(acc.lastMinute) ? acc.lastMinute + 1 : startMinute;
      const minutes = Math.max(0, endMinute - startMinute);
      const { order, nodes } = registry.finalOrder();
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
        records: { ...counts, rejected, examples },
        options: {
          format: opts.format ?? 'detect',
          from: opts.from ?? null,
          to: opts.to ?? null,
          reorderMinutes: reorder,
          chunkMinutes,
          spreadLongFlows: Boolean(opts.spreadLongFlows),
          utcOffsetHours: opts.utcOffsetHours ?? 0,
          timeRule: opts.spreadLongFlows ? 'packets and bytes spread over the minutes a flow spans; flow counted in its start minute' : 'flow counted in the minute of its start time',
          peakOpenChunks: acc.stats.peakOpenChunks,
        },
      };
      validateWithSchema(STORE_SCHEMA, manifest, `${opts.out}/${MANIFEST}`);
      await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    },
    { overwrite: opts.force, inputs: [...opts.inputs, opts.nodes] },
  );
}

function abortError(): Error {
  const e = new Error('interrupted: no store was written');
  e.name = 'AbortError';
  return e;
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}
