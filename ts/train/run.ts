/**
 * `netflowgen pretrain`: one fairseq-train run of a resolved pre-training spec in its own run folder
 * (folder.ts), by the one job runner (job.ts). Pre-training's part: the binned dataset's sizes for the
 * model, the parameter count through the bridge while checking, and result.json's fields (dataset,
 * arch, sizes, learning rate, dropout, batch size, parameters).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinnedDataset } from '../datasets/binned.js';
import type { ArchOverrides, ModelDims, ParameterCount } from '../bridge/bridge.js';
import { specHash } from '../config/compose.js';
import { RESULT_FILE, RUN_FILES } from './folder.js';
import { runJob, type JobKind, type JobOptions, type JobOutcome, type JobResult } from './job.js';
import { renderCommand, type RenderedCommand } from './render.js';
import { ARCH_SIZES, type ExperimentSpec } from './spec.js';

/** What "start over" removes from a pre-training run folder (nothing else is touched). */
const PRETRAIN_RUN_FILES = [...RUN_FILES, 'eval', 'table4.json', 'table4.md'];

// ---------------------------------------------------------------- dataset facts the model needs

/** The sizes a model is built for, from the dataset's manifest and the spec. */
export function modelDims(spec: ExperimentSpec, ds: BinnedDataset): ModelDims {
  const m = ds.manifest;
  const nFeatures =
    spec.feature_set === 'light' ? m.featureGroups.filter((g) => g === 'volume').length : m.features.length;
  return {
    nNodeIds: m.nodeIds,
    nCustomers: m.customers.length,
    nFeatures,
    nBins: m.nBins,
    window: spec.window ?? m.windowLength,
  };
}

/** The spec's size overrides as fairseq argument names. */
export function archOverrides(spec: ExperimentSpec): ArchOverrides {
  const o: ArchOverrides = { dropout: spec.dropout };
  if (spec.model?.layers) o.decoder_layers = spec.model.layers;
  if (spec.model?.heads) o.decoder_attention_heads = spec.model.heads;
  if (spec.model?.width) o.decoder_embed_dim = spec.model.width;
  if (spec.model?.ffn) o.decoder_ffn_embed_dim = spec.model.ffn;
  return o;
}

export function archSizes(spec: ExperimentSpec): { layers: number; heads: number; width: number; ffn: number } {
  return { ...ARCH_SIZES[spec.arch], ...(spec.model ?? {}) };
}

// ---------------------------------------------------------------- the run

/** RUN/result.json of a pre-training run: the fields of every result (job.ts) and these. */
export interface RunResult extends JobResult {
  kind: 'netflowgen.pretrain-result';
  dataset: string;
  arch: string;
  sizes: { layers: number; heads: number; width: number; ffn: number };
  learning_rate: number;
  dropout: number;
  batch_size: number;
  /** From the bridge (python/bridge.py count_parameters); null when the check was skipped. */
  params: ParameterCount | null;
  /** What fairseq-train printed as the model's parameter count. */
  fairseqParams: number | null;
}

export type PretrainOptions = JobOptions;
export type PretrainOutcome = JobOutcome<RunResult>;

/** The rendered command of a spec in a run folder (what --dry-run prints). */
export function planCommand(spec: ExperimentSpec, runDir: string): RenderedCommand {
  return renderCommand(spec, { saveDir: runDir });
}

export function readResult(runDir: string): RunResult | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, RESULT_FILE), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

interface PretrainFacts {
  dims: ModelDims;
  /** Training windows of the dataset. */
  windows: number;
}

const PRETRAIN: JobKind<ExperimentSpec, PretrainFacts, ParameterCount, RunResult> = {
  command: 'pretrain',
  resultKind: 'netflowgen.pretrain-result',
  runFiles: PRETRAIN_RUN_FILES,
  hash: specHash,
  readResult,
  inputs(spec) {
    const ds = BinnedDataset.open(spec.dataset);
    return { dims: modelDims(spec, ds), windows: ds.manifest.windows.train.count };
  },
  render: planCommand,
  examples: (facts) => facts.windows,
  count: (b, spec, facts) => b.countParameters(spec.arch, archOverrides(spec), facts.dims),
  async finish({ spec, log }, summary, params) {
    if (params && summary.fairseqParams !== null && params.total !== summary.fairseqParams)
      log(`warning: the bridge counts ${params.total} parameters, fairseq-train printed ${summary.fairseqParams}`);
    const fields = {
      dataset: spec.dataset,
      arch: spec.arch,
      sizes: archSizes(spec),
      learning_rate: spec.learning_rate,
      dropout: spec.dropout,
      batch_size: spec.batch_size,
      params,
      fairseqParams: summary.fairseqParams,
    };
    return { fields };
  },
};

/** Runs (or resumes, or skips) the spec's training in `opts.runDir`. */
export function runPretrain(spec: ExperimentSpec, opts: PretrainOptions): Promise<PretrainOutcome> {
  return runJob(PRETRAIN, spec, opts);
}
