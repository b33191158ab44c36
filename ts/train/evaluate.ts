/**
 * `netflowgen evaluate-pretrain RUN`: Table 4 for a finished run. The run's best checkpoint is scored
 * on the validation and test windows by python/score.py (RUN/eval/<split>/score.json, plus per-step
 * arrays), and set against the bigram baseline of `netflowgen baseline` on the same splits:
 * given with --baseline, else DATASET/bigram.<split>.json when present, else computed here
 * (RUN/eval/bigram.<split>.json). Writes RUN/table4.json and RUN/table4.md.
 *
 * Comparability: both score the same windows' steps 1..L-1 in nats per (step, feature). A run with
 * --window shorter than the dataset's windows scores the shorter windows the task cuts; a light run
 * (6 volume features) is compared with the bigram's volume group.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { createProgress, progressEvents } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { runBigram } from '../baseline/run.js';
import { BinnedDataset } from '../datasets/binned.js';
import { runPythonScript } from '../bridge/python.js';
import { lastPythonError } from './log.js';
import { BEST_CHECKPOINT, RunInterrupted, SPEC_FILE } from './folder.js';
import type { ExperimentSpec } from './spec.js';
import { bigramMetrics, scoreMetrics, table4Markdown, table4Row, type Table4Row } from './tables.js';

export type EvalSplit = 'valid' | 'test';

export interface EvaluateOptions {
  /** Bigram result files (netflowgen baseline -o ...); each names its split. */
  baselines?: string[];
  splits?: EvalSplit[];
  /** Checkpoint file name in the run folder (default checkpoint_best.pt). */
  checkpoint?: string;
  batchSize?: number;
  threads?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

export interface Table4 {
  kind: 'netflowgen.table4';
  createdBy: string;
  run: string;
  checkpoint: string;
  dataset: string;
  featureSet: string;
  /** Which bigram metrics the model is compared with: 'overall' or a feature group. */
  bigramScope: string;
  rows: Table4Row[];
}

/** Runs python/score.py for one split; returns the parsed score.json. */
export async function scoreSplit(
  checkpoint: string,
  dataset: string,
  split: EvalSplit,
  out: string,
  opts: { batchSize?: number; threads?: number; signal?: AbortSignal } = {},
): Promise<Record<string, unknown>> {
  const args = ['--checkpoint', checkpoint, '--data', dataset, '--split', split, '--out', out];
  if (opts.batchSize) args.push('--batch-size', String(opts.batchSize));
  const bar = createProgress(
    `score ${split}`,
    1,
    '{bar} {percentage}% | {value}/{total} windows | ETA {eta_formatted}',
  );
  const res = await runPythonScript('score.py', args, {
    threads: opts.threads,
    signal: opts.signal,
    onEvent: progressEvents(bar, 'windows'),
  }).finally(() => bar.stop()); // also when a line breaks the contract: a running bar keeps node alive
  if (res.canceled)
    throw new RunInterrupted(`interrupted while scoring ${split}; nothing was written to ${join(out, 'score.json')}`);
  if (res.exitCode !== 0)
    throw new Error(
      `python/score.py failed on ${split} (exit code ${res.exitCode}): ${lastPythonError(res.tail) ?? res.tail.slice(-3).join('\n')}`,
    );
  return JSON.parse(readFileSync(join(out, 'score.json'), 'utf8')) as Record<string, unknown>;
}

/** The bigram result for a split: a given file, the dataset's own, or a fresh one in RUN/eval. */
async function bigramFor(
  split: EvalSplit,
  dataset: string,
  runDir: string,
  given: Record<string, unknown>[],
  signal?: AbortSignal,
): Promise<{ result: Record<string, unknown>; source: string }> {
  const named = given.find((g) => g.split === split);
  if (named) return { result: named, source: String(named.__file) };
  const own = join(dataset, `bigram.${split}.json`);
  if (existsSync(own)) return { result: JSON.parse(readFileSync(own, 'utf8')) as Record<string, unknown>, source: own };
  const out = join(runDir, 'eval', `bigram.${split}.json`);
  const { result } = await runBigram({ dataset, split, out, signal });
  return { result: result as unknown as Record<string, unknown>, source: out };
}

export async function evaluatePretrain(
  runDir: string,
  opts: EvaluateOptions = {},
): Promise<{ table: Table4; files: { json: string; md: string } }> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const specFile = join(runDir, SPEC_FILE);
  if (!existsSync(specFile))
    throw new Error(`${runDir}: not a run folder (no ${SPEC_FILE}); give the folder netflowgen pretrain wrote`);
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as ExperimentSpec;
  const checkpoint = join(runDir, opts.checkpoint ?? BEST_CHECKPOINT);
  if (!existsSync(checkpoint)) throw new Error(`${checkpoint}: missing (has the run saved a checkpoint yet?)`);
  const ds = BinnedDataset.open(spec.dataset);
  const hasOtherGroups = ds.manifest.featureGroups.some((g) => g !== 'volume');
  const bigramScope = spec.feature_set === 'light' && hasOtherGroups ? 'volume' : 'overall';

  const given = (opts.baselines ?? []).map((f) => {
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${f}: not a readable baseline result (${(e as Error).message})`);
    }
    if (typeof r.loss !== 'number' || typeof r.split !== 'string')
      throw new Error(`${f}: not a bigram result of netflowgen baseline (needs 'split' and 'loss')`);
    return { ...r, __file: f };
  });

  const rows: Table4Row[] = [];
  for (const split of opts.splits ?? ['valid', 'test']) {
    log(`scoring ${split} with ${checkpoint}`);
    const score = await scoreSplit(checkpoint, spec.dataset, split, join(runDir, 'eval', split), opts);
    const bigram = await bigramFor(split, spec.dataset, runDir, given, opts.signal);
    rows.push(
      table4Row(
        `NetFlowGen (pre-trained, ${spec.name})`,
        split,
        scoreMetrics(score),
        join(runDir, 'eval', split, 'score.json'),
      ),
    );
    rows.push(
      table4Row(
        bigramScope === 'overall' ? 'Bigram' : `Bigram (${bigramScope} features)`,
        split,
        bigramMetrics(bigram.result, bigramScope === 'overall' ? undefined : bigramScope),
        bigram.source,
      ),
    );
  }
  const table: Table4 = {
    kind: 'netflowgen.table4',
    createdBy: `netflowgen ${VERSION}`,
    run: runDir,
    checkpoint,
    dataset: spec.dataset,
    featureSet: spec.feature_set,
    bigramScope,
    rows,
  };
  const files = { json: join(runDir, 'table4.json'), md: join(runDir, 'table4.md') };
  await writeFileAtomic(files.json, JSON.stringify(table, null, 2) + '\n');
  await writeFileAtomic(files.md, `# Table 4: ${spec.name}\n\n${table4Markdown(rows)}`);
  return { table, files };
}
