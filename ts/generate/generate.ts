/**
 * `netflowgen generate`: traffic series sampled from a pre-trained model (docs/generate.md). The
 * sampling loop is python/generate.py (incremental decoding, temperature, top-k), started here with
 * execa; it writes the bins. This side turns each bin into a count drawn within the node's cutoffs
 * (values.ts) and writes
 *
 *   OUT/manifest.json   schemas/generated-series.schema.json (written last)
 *   OUT/bins.u8         uint8 [nodes, minutes, features]: the sampled bins
 *   OUT/sample.json     python/generate.py's record (schemas/generate-sample.schema.json)
 *   OUT/store/          a series store of the values (docs/series-store.md): `netflowgen inspect`,
 *                       `netflowgen bin` and every later stage read it like a serialized one
 *
 * OUT appears only when complete (written under a temporary name, then renamed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { createProgress, progressEvents } from '../common/progress.js';
import { Rng } from '../common/rng.js';
import { validateWithSchema } from '../common/schema.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import { runPythonScript } from '../bridge/python.js';
import { isoToMinute, minuteToIso, SeriesStore, writeSeriesStore, type StoreNode } from '../serialize/store.js';
import { lastPythonError } from '../train/log.js';
import { BEST_CHECKPOINT, RunInterrupted, SPEC_FILE } from '../train/folder.js';
import {
  GENERATED_MANIFEST,
  GENERATED_SCHEMA,
  SAMPLE_SCHEMA,
  type GeneratedManifest,
  type GeneratedNode,
  type SampleRecord,
} from './series.js';
import { binsToValues, sortedColumns } from './values.js';

// The folder's contract and its reader live in series.ts; importable from here as before.
export {
  GENERATED_MANIFEST,
  GENERATED_SCHEMA,
  GeneratedSeries,
  SAMPLE_SCHEMA,
  type GeneratedManifest,
  type GeneratedNode,
  type SampleRecord,
} from './series.js';

export interface GenerateOptions {
  /** Run folder of `netflowgen pretrain` (spec.resolved.json, checkpoint_best.pt). */
  model?: string;
  /** Checkpoint file in the run folder (default checkpoint_best.pt), or a path. */
  checkpoint?: string;
  /** An untrained model of this architecture instead of a run (benchmarks only). */
  initArch?: string;
  /** Binned dataset (default: the run's spec.dataset). */
  dataset?: string;
  /** Series store of the training values (default: the dataset's source store); false: bins only, no store. */
  store?: string | false;
  /** Node addresses or dataset rows (numbers); default every training node. */
  nodes?: (string | number)[];
  /** First generated minute: an ISO time or an index on the dataset's time axis. */
  from: string | number;
  minutes: number;
  /** Start of the real history read before `from` (ISO or index); absent: cold start. */
  historyFrom?: string | number;
  temperature?: number;
  topK?: number;
  seed?: number;
  /** Incremental decoding (default true); false recomputes the context every step (speed reference). */
  cache?: boolean;
  keep?: number;
  batchSize?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  out: string;
  force?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

/** A time given as an ISO string or a minute index on the dataset's axis. */
export function datasetMinute(value: string | number, startMinute: number, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`${what}: ${value} is not a whole minute index`);
    return value;
  }
  const s = value.trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  try {
    return isoToMinute(s) - startMinute;
  } catch {
    throw new Error(`${what}: '${value}' is neither a minute index nor an ISO time (e.g. 2021-09-21T15:45:00Z)`);
  }
}

/** The run's spec, checkpoint and dataset. */
export function resolveRun(
  run: string,
  checkpoint?: string,
  dataset?: string,
): { name: string; checkpoint: string; dataset: string } {
  const specFile = join(run, SPEC_FILE);
  if (!existsSync(specFile))
    throw new Error(`${run}: not a run folder (no ${SPEC_FILE}); give the folder netflowgen pretrain wrote`);
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as { name: string; dataset: string };
  const ckpt =
    checkpoint && (checkpoint.includes('/') || existsSync(checkpoint))
      ? resolve(checkpoint)
      : join(run, checkpoint ?? BEST_CHECKPOINT);
  if (!existsSync(ckpt)) throw new Error(`${ckpt}: missing (has the run saved a checkpoint yet?)`);
  return { name: spec.name, checkpoint: ckpt, dataset: resolve(dataset ?? spec.dataset) };
}

/** Dataset rows of node addresses or row numbers (default: every training row). */
export function resolveRows(ds: BinnedDataset, nodes?: (string | number)[]): number[] {
  if (!nodes || !nodes.length) return Array.from({ length: ds.manifest.nodeIds }, (_, r) => r);
  const rows = nodes.map((n) => {
    const s = String(n).trim();
    const byAddress = ds.rowOf(s);
    if (byAddress >= 0) return byAddress;
    if (/^\d+$/.test(s) && Number(s) < ds.rows) return Number(s);
    throw new Error(
      `${ds.dir}: no node '${s}' (give an address of the dataset's nodes or a row number 0..${ds.rows - 1})`,
    );
  });
  if (new Set(rows).size !== rows.length) throw new Error('a node is named twice');
  return rows;
}

/** Runs python/generate.py; resolves with its sample.json. */
export async function runSampler(
  args: string[],
  out: string,
  opts: { threads?: number; signal?: AbortSignal; label?: string } = {},
): Promise<SampleRecord> {
  const bar = createProgress(
    opts.label ?? 'generate',
    1,
    '{bar} {percentage}% | {value}/{total} node-minutes | ETA {eta_formatted}',
  );
  const res = await runPythonScript('generate.py', [...args, '--out', out], {
    threads: opts.threads,
    signal: opts.signal,
    onEvent: progressEvents(bar, 'node_minutes'),
  }).finally(() => bar.stop()); // also when a line breaks the contract: a running bar keeps node alive
  if (res.canceled) throw new RunInterrupted('interrupted while sampling; nothing was written');
  if (res.exitCode !== 0) {
    const own = [...res.tail].reverse().find((l) => l.startsWith('generate.py: '));
    throw new Error(
      `python/generate.py failed (exit code ${res.exitCode}): ${own?.slice('generate.py: '.length) ?? lastPythonError(res.tail) ?? res.tail.slice(-3).join('\n')}`,
    );
  }
  const file = join(out, 'sample.json');
  return validateWithSchema<SampleRecord>(SAMPLE_SCHEMA, JSON.parse(readFileSync(file, 'utf8')), file);
}

export async function generate(opts: GenerateOptions): Promise<GeneratedManifest> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  if (!opts.model === !opts.initArch)
    throw new Error('give a run folder (model) or an architecture to initialise (initArch), not both');
  const run = opts.model ? resolveRun(resolve(opts.model), opts.checkpoint, opts.dataset) : null;
  const datasetDir = run?.dataset ?? (opts.dataset ? resolve(opts.dataset) : undefined);
  if (!datasetDir) throw new Error('initArch needs a dataset');
  const ds = BinnedDataset.open(datasetDir);
  const m = ds.manifest;
  const from = datasetMinute(opts.from, m.startMinute, '--from');
  if (!(Number.isInteger(opts.minutes) && opts.minutes >= 1))
    throw new Error(`--minutes must be a whole number >= 1, got ${opts.minutes}`);
  let history = 0;
  let historyFrom: number | null = null;
  if (opts.historyFrom !== undefined) {
    historyFrom = datasetMinute(opts.historyFrom, m.startMinute, '--history-from');
    history = from - historyFrom;
    if (history < 1)
      throw new Error(`--history-from must come before --from (minute ${historyFrom} is not before ${from})`);
    if (historyFrom < 0 || from > m.minutes)
      throw new Error(
        `the history ${historyFrom}..${from - 1} is not inside the dataset's minutes 0..${m.minutes - 1}`,
      );
  }
  const rows = resolveRows(ds, opts.nodes);
  const seed = opts.seed ?? 1;
  const out = resolve(opts.out);
  const args = [
    ...(run ? ['--checkpoint', run.checkpoint] : ['--init-arch', String(opts.initArch)]),
    ...['--data', datasetDir, '--from', String(from), '--minutes', String(opts.minutes), '--history', String(history)],
    ...[
      '--rows-list',
      rows.join(','),
      '--temperature',
      String(opts.temperature ?? 1),
      '--top-k',
      String(opts.topK ?? 0),
      '--seed',
      String(seed),
    ],
    ...(opts.cache === false ? ['--no-cache'] : []),
    ...(opts.keep ? ['--keep', String(opts.keep)] : []),
    ...(opts.batchSize ? ['--batch-size', String(opts.batchSize)] : []),
    ...['--device', opts.device ?? 'auto'],
  ];
  const storeDir = opts.store === false ? null : resolve(opts.store ?? m.source.store);
  const source = storeDir && existsSync(join(storeDir, 'manifest.json')) ? SeriesStore.open(storeDir) : null;
  if (storeDir && !source && opts.store) throw new Error(`${storeDir}: not a series store`);
  if (storeDir && !source)
    log(`${storeDir} (the dataset's store) is not there: values are drawn uniformly within the cutoffs`);

  return withAtomicDir(
    out,
    async (tmp) => {
      log(
        `sampling ${rows.length} nodes x ${opts.minutes} minutes from ${run?.checkpoint ?? `an untrained ${opts.initArch}`}`,
      );
      const sample = await runSampler(args, tmp, {
        threads: opts.threads,
        signal: opts.signal,
        label: `generate ${run?.name ?? opts.initArch}`,
      });
      const F = sample.features.length;
      const N = sample.minutes;
      const nodes: GeneratedNode[] = rows.map((r) => {
        const n = m.nodes[r];
        return {
          row: r,
          address: n.address,
          customer: n.customer,
          ...(n.role ? { role: n.role } : {}),
          nodeId: n.nodeId,
          customerId: n.customerId,
          seen: n.seen,
        };
      });
      let fallbacks = 0;
      let unrealizable = 0;
      let storeRel: string | null = null;
      if (storeDir) {
        const bins = new Uint8Array(readFileSync(join(tmp, sample.files.bins.file)));
        const values = new Float32Array(rows.length * N * F);
        const featureCols = ds.manifest.features
          .map((name, i) => (sample.features.includes(name) ? i : -1))
          .filter((i) => i >= 0);
        const storeCols = source ? sample.features.map((name) => source.manifest.features.indexOf(name)) : [];
        if (source && storeCols.some((c) => c < 0))
          throw new Error(
            `${storeDir}: the store lacks features of the model (${sample.features.filter((_, i) => storeCols[i] < 0).join(', ')})`,
          );
        const train = m.splits.train;
        rows.forEach((r, i) => {
          const all = ds.readCutoffs(r); // [F_dataset, N-1]
          const nc = m.nBins - 1;
          const cut = new Float64Array(F * nc);
          featureCols.forEach((c, f) => cut.set(all.subarray(c * nc, (c + 1) * nc), f * nc));
          let sorted: Float64Array[] | null = null;
          if (source) {
            // the training values behind the cutoffs: an unseen node's cutoffs are its mapped node's
            const owner = m.nodes[r].seen ? m.nodes[r] : m.nodes[m.nodes[r].mappedTo ?? r];
            const raw = source.readNode(owner.storeIndex, train.start, train.end);
            const S = source.nFeatures;
            const T = train.end - train.start;
            const picked = new Float32Array(T * F);
            for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) picked[t * F + f] = raw[t * S + storeCols[f]];
            sorted = sortedColumns(picked, T, F);
          }
          const r2 = binsToValues(
            bins.subarray(i * N * F, (i + 1) * N * F),
            N,
            F,
            cut,
            m.nBins,
            sorted,
            Rng.derive(seed, 'values', r),
          );
          values.set(r2.values, i * N * F);
          fallbacks += r2.fallbacks;
          unrealizable += r2.unrealizable;
        });
        const customers = [...new Set(nodes.map((n) => n.customer))];
        const storeNodes: StoreNode[] = nodes.map((n, id) => ({
          id,
          address: n.address,
          customer: n.customer,
          ...(n.role ? { role: n.role } : {}),
        }));
        await writeSeriesStore(join(tmp, 'store'), {
          createdBy: `netflowgen ${VERSION} generate`,
          features: sample.features,
          nodes: storeNodes,
          customers,
          startMinute: m.startMinute + from,
          minutes: N,
          sampling: source?.manifest.sampling ?? 1,
          inputs: [],
          records: { read: 0, used: 0, unmatched: 0, outsideRange: 0, rejected: {}, examples: [] },
          options: {
            generated: { model: run?.checkpoint ?? `untrained ${opts.initArch}`, dataset: datasetDir, from, seed },
          },
          data: values,
        });
        storeRel = 'store';
      }
      const manifest: GeneratedManifest = {
        kind: 'netflowgen.generated-series',
        schemaVersion: 1,
        createdBy: `netflowgen ${VERSION}`,
        model: {
          run: opts.model ? resolve(opts.model) : null,
          name: run?.name ?? null,
          checkpoint: run?.checkpoint ?? null,
          initArch: opts.initArch ?? null,
          size: sample.size,
          window: sample.window,
          context: sample.context,
          keep: sample.keep,
        },
        dataset: datasetDir,
        features: sample.features,
        featureGroups: sample.featureGroups,
        nBins: sample.nBins,
        from,
        startMinute: m.startMinute + from,
        firstMinute: minuteToIso(m.startMinute + from),
        minutes: N,
        history: { from: sample.cold ? null : from - sample.history, minutes: sample.history, cold: sample.cold },
        sampling: {
          temperature: sample.temperature,
          topK: sample.topK,
          seed,
          cache: sample.cache,
          batchSize: sample.batchSize,
          device: sample.device,
          threads: sample.threads,
          reprimes: sample.reprimes,
        },
        nodes,
        files: { bins: sample.files.bins, sample: 'sample.json', store: storeRel },
        values: {
          source: storeRel ? (source ? 'training-values' : 'cutoffs') : null,
          store: source ? storeDir : null,
          fallbacks,
          unrealizable,
          seed,
        },
        timing: {
          sampleSeconds: sample.sampleSeconds,
          nodeMinutesPerSecond: sample.nodeMinutesPerSecond,
          totalSeconds: (Date.now() - started) / 1000,
        },
      };
      validateWithSchema(GENERATED_SCHEMA, manifest, join(out, GENERATED_MANIFEST));
      await writeFileAtomic(join(tmp, GENERATED_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    },
    { overwrite: opts.force },
  );
}
