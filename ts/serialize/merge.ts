/**
 * `netflowgen merge`: series stores of adjacent time partitions (each a `serialize --from --to`)
 * become one store, the one a single `serialize` over the whole range would write (issue 15, "past
 * one machine"): same `series.f32` bytes, and a manifest with the counts summed, the skipped files
 * and rejected reasons merged and the inputs listed.
 *
 * Refused, with an error naming the stores: overlapping or non-adjacent ranges (a gap would hold
 * minutes no partition counted), a store made without `--from/--to`, different features, nodes,
 * sampling, version or serialize options, `--spread` (a flow spread across a boundary is cut by
 * its partition), and partitions that share some but not all of their input files (the records
 * counted twice cannot be told apart). Two layouts of the inputs are exact:
 *
 *   - every partition read the same files (each job is given the whole folder): the files, skipped
 *     files, reader rejections and estimates are the same in each and are taken once; records used,
 *     unmatched and rejected for their time (out_of_order, time_outlier) are summed; `outsideRange`
 *     is what is left of `read`.
 *   - the partitions read disjoint files (each job is given its own days): everything is summed and
 *     the lists are joined in time order.
 *
 * Merging along nodes (disjoint inventories, one range) is not offered: a record between nodes of
 * two partitions is `used` in both, so the counts of one whole run cannot be rebuilt from theirs.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import {
  DATA_FILE,
  MANIFEST,
  STORE_SCHEMA,
  SeriesStore,
  minuteToIso,
  type RejectExample,
  type SeriesStoreManifest,
  type StoreInput,
} from './store.js';

export interface MergeOptions {
  /** Series store folders, in any order (sorted by time). */
  stores: string[];
  out: string;
  /** Replace a previous netflowgen output (never one holding an input store). */
  force?: boolean;
  /** Examples kept per rejection reason (serialize's default, 20). */
  maxExamples?: number;
}

/** Rejections decided by the time of a record inside serialize (the rest come from the readers, per file). */
const TIME_REASONS = new Set(['out_of_order', 'time_outlier']);
/** Options that describe one partition and differ between them; every other option must be equal. */
const PER_PARTITION_OPTIONS = new Set(['from', 'to', 'timeRange', 'lateRecords', 'peakOpenChunks']);

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const inputKey = (i: StoreInput): string => `${i.path}\0${i.sha256}`;

export async function mergeStores(opts: MergeOptions): Promise<SeriesStoreManifest> {
  if (opts.stores.length < 2) throw new MergeError(`merge needs at least two stores, got ${opts.stores.length}`);
  const maxExamples = opts.maxExamples ?? 20;
  await checkOutputDir(opts.out, { overwrite: opts.force, inputs: opts.stores });
  const parts = opts.stores.map((dir) => ({ dir, store: SeriesStore.open(dir) }));
  parts.sort((a, b) => a.store.startMinute - b.store.startMinute);
  const ms = parts.map((p) => p.store.manifest);
  const first = parts[0];
  const m0 = first.store.manifest;

  // ---- 1. may they be merged?
  for (const { dir, store } of parts)
    if (store.layout !== 'node-major')
      throw new MergeError(
        `${dir} has layout ${store.layout}: merge joins dense stores; serialize the partitions without --layout and merge with --layout`,
      );
  for (const { dir, store } of parts) {
    const m = store.manifest;
    const tr = m.options.timeRange as { source?: string } | undefined;
    if (tr?.source !== '--from/--to' || m.options.from == null || m.options.to == null)
      throw new MergeError(
        `${dir} was not made with --from/--to (its range came from ${tr?.source ?? 'an unknown source'}): serialize each partition with --from and --to so their ranges meet exactly`,
      );
    if (m.options.spreadLongFlows)
      throw new MergeError(
        `${dir} was made with --spread: a flow spread over a partition boundary is cut at the boundary, so the merge would differ from one whole run; serialize without --spread, or in one run`,
      );
    if (dir === first.dir) continue;
    const differs = (what: string, a: unknown, b: unknown): void => {
      if (!same(a, b))
        throw new MergeError(
          `${first.dir} and ${dir} have different ${what}: they cannot be merged along time (same features, nodes and serialize options are needed)`,
        );
    };
    differs('features (feature catalogue)', m0.features, m.features);
    differs('nodes (node inventory)', m0.nodes, m.nodes);
    differs('customers', m0.customers, m.customers);
    differs('sampling', m0.sampling, m.sampling);
    differs('createdBy (netflowgen version)', m0.createdBy, m.createdBy);
    for (const k of new Set([...Object.keys(m0.options), ...Object.keys(m.options)]))
      if (!PER_PARTITION_OPTIONS.has(k)) differs(`options.${k}`, m0.options[k], m.options[k]);
  }
  for (let i = 1; i < parts.length; i++) {
    const a = parts[i - 1];
    const b = parts[i];
    const aEnd = a.store.startMinute + a.store.nMinutes;
    if (b.store.startMinute < aEnd)
      throw new MergeError(
        `${a.dir} (${minuteToIso(a.store.startMinute)} to ${minuteToIso(aEnd)}) and ${b.dir} (${minuteToIso(b.store.startMinute)} to ${minuteToIso(b.store.startMinute + b.store.nMinutes)}) overlap: time partitions must be disjoint`,
      );
    if (b.store.startMinute > aEnd)
      throw new MergeError(
        `${a.dir} ends at ${minuteToIso(aEnd)} but ${b.dir} starts at ${minuteToIso(b.store.startMinute)}: the minutes between are in no partition; serialize them too (partitions must meet exactly)`,
      );
  }

  // ---- 2. the inputs: all the same, or disjoint
  const keys = ms.map((m) => m.inputs.map(inputKey));
  const sharedAll = keys.every((k) => same(k, keys[0])) && ms.every((m) => same(m.skipped ?? [], m0.skipped ?? []));
  if (!sharedAll) {
    const owner = new Map<string, string>();
    for (let i = 0; i < parts.length; i++) {
      const paths = [...ms[i].inputs.map((x) => x.path), ...(ms[i].skipped ?? []).map((s) => s.path)];
      for (const p of paths) {
        const o = owner.get(p);
        if (o !== undefined && o !== parts[i].dir)
          throw new MergeError(
            `${o} and ${parts[i].dir} both read ${p}, but their input files are not all the same: give every partition the same inputs, or each its own files`,
          );
        owner.set(p, parts[i].dir);
      }
    }
  }

  // ---- 3. the counts
  const sum = (f: (m: SeriesStoreManifest) => number): number => ms.reduce((a, m) => a + f(m), 0);
  const reasons = new Set(ms.flatMap((m) => Object.keys(m.records.rejected)));
  const rejected: Record<string, number> = {};
  for (const r of reasons) {
    if (sharedAll && !TIME_REASONS.has(r)) {
      const n = ms[0].records.rejected[r] ?? 0;
      const k = ms.findIndex((m) => (m.records.rejected[r] ?? 0) !== n);
      if (k >= 0)
        throw new MergeError(
          `${first.dir} and ${parts[k].dir} read the same files but rejected a different number of records for ${r}; were they made from the same files?`,
        );
      rejected[r] = n;
    } else rejected[r] = sum((m) => m.records.rejected[r] ?? 0);
  }
  let estimated: Record<string, number> | undefined;
  if (ms.some((m) => m.records.estimated)) {
    estimated = {};
    for (const k of new Set(ms.flatMap((m) => Object.keys(m.records.estimated ?? {}))))
      estimated[k] = sharedAll ? (m0.records.estimated?.[k] ?? 0) : sum((m) => m.records.estimated?.[k] ?? 0);
  }
  const pickExamples = (from: RejectExample[][], keep: (e: RejectExample) => boolean): RejectExample[] => {
    const n: Record<string, number> = {};
    return from.flat().filter((e) => keep(e) && (n[e.reason] = (n[e.reason] ?? 0) + 1) <= maxExamples);
  };
  const examples = sharedAll
    ? [
        ...pickExamples([m0.records.examples], (e) => !TIME_REASONS.has(e.reason)),
        ...pickExamples(
          ms.map((m) => m.records.examples),
          (e) => TIME_REASONS.has(e.reason),
        ),
      ]
    : pickExamples(
        ms.map((m) => m.records.examples),
        () => true,
      );
  const read = sharedAll ? m0.records.read : sum((m) => m.records.read);
  const used = sum((m) => m.records.used);
  const unmatched = sum((m) => m.records.unmatched);
  const rejectedTotal = Object.values(rejected).reduce((a, b) => a + b, 0);
  const outsideRange = sharedAll ? read - used - unmatched - rejectedTotal : sum((m) => m.records.outsideRange);
  if (outsideRange < 0)
    throw new MergeError(
      `the stores' counts do not add up (more records used than read); were ${parts.map((p) => p.dir).join(', ')} made from the same files?`,
    );

  const last = parts[parts.length - 1];
  const startMinute = first.store.startMinute;
  const endMinute = last.store.startMinute + last.store.nMinutes;
  const minutes = endMinute - startMinute;
  const F = m0.features.length;
  const N = m0.nodes.length;
  const lastOpts = last.store.manifest.options;
  const tr0 = m0.options.timeRange as Record<string, unknown>;
  const manifest: SeriesStoreManifest = {
    ...m0,
    dataBytes: N * minutes * F * 4,
    startMinute,
    firstMinute: minuteToIso(startMinute),
    minutes,
    inputs: sharedAll ? m0.inputs : ms.flatMap((m) => m.inputs),
    skipped: sharedAll ? (m0.skipped ?? []) : ms.flatMap((m) => m.skipped ?? []),
    records: { read, used, unmatched, outsideRange, rejected, examples, ...(estimated ? { estimated } : {}) },
    options: {
      ...m0.options,
      from: m0.options.from,
      to: lastOpts.to,
      timeRange: { ...tr0, from: minuteToIso(startMinute), to: minuteToIso(endMinute) },
      lateRecords: sum((m) => Number(m.options.lateRecords ?? 0)),
      peakOpenChunks: Math.max(...ms.map((m) => Number(m.options.peakOpenChunks ?? 0))),
    },
  };
  if (!('skipped' in m0)) delete manifest.skipped;
  validateWithSchema(STORE_SCHEMA, manifest, `${opts.out}/${MANIFEST}`);

  // ---- 4. the data: node by node, each partition's rows of that node in time order
  return withAtomicDir(
    opts.out,
    async (tmp) => {
      const out = openSync(join(tmp, DATA_FILE), 'w');
      const fds = parts.map((p) => openSync(join(p.dir, p.store.manifest.dataFile), 'r'));
      const buf = new Uint8Array(8 << 20);
      try {
        let pos = 0;
        for (let node = 0; node < N; node++) {
          for (let i = 0; i < parts.length; i++) {
            const len = parts[i].store.nMinutes * F * 4;
            let src = node * len;
            for (let left = len; left > 0;) {
              const n = readFull(fds[i], buf.subarray(0, Math.min(left, buf.length)), src, parts[i].dir);
              writeFull(out, buf.subarray(0, n), pos);
              src += n;
              pos += n;
              left -= n;
            }
          }
        }
      } finally {
        closeSync(out);
        for (const fd of fds) closeSync(fd);
      }
      await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    },
    { overwrite: opts.force, inputs: opts.stores },
  );
}

function readFull(fd: number, buf: Uint8Array, pos: number, dir: string): number {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, pos + off);
    if (n === 0) throw new MergeError(`${dir}/${DATA_FILE} is shorter than its manifest says`);
    off += n;
  }
  return off;
}

function writeFull(fd: number, buf: Uint8Array, pos: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}
