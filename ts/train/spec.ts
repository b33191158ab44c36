/**
 * Pre-training specs: JSON files under experiments/pretrain/ that say what to pre-train (dataset,
 * architecture, optimiser settings, device), composed from several files and checked against
 * schemas/experiment.schema.json by ts/config/ (an error names the file, line and key, with a "did you
 * mean"). The resolved spec is what runs: its hash decides whether an existing run folder may be
 * resumed. A spec with a `grid` is a sweep: expandSweep() makes one resolved spec per point.
 */
import { resolve } from 'node:path';
import {
  acceptSpec,
  checkResolved,
  composeLayers,
  mergeSpecs,
  SpecError,
  type ComposedSpec,
  type OverrideLayer,
  type SpecLoader,
} from '../config/compose.js';
import type { TrainingSettings } from './settings.js';

export const EXPERIMENT_SCHEMA = 'experiment.schema.json';

// The named sizes live in schemas/architectures.json (read by the Fairseq plugin too).
import { ARCHS, ARCH_SIZES, type Arch } from '../catalogue/architectures.js';
export { ARCHS, ARCH_SIZES, type Arch };

/** A resolved spec: every file merged, defaults filled, dataset path absolute. */
export interface ExperimentSpec extends TrainingSettings {
  dataset: string;
  arch: Arch;
  window?: number;
  feature_set: 'full' | 'light';
  dropout: number;
  world_size: number;
}

export const GRID_KEYS = [
  'arch',
  'learning_rate',
  'dropout',
  'batch_size',
  'seed',
  'weight_decay',
  'feature_set',
  'window',
] as const;
export type GridKey = (typeof GRID_KEYS)[number];
export type Grid = Partial<Record<GridKey, (string | number)[]>>;

/** Reads a pre-training spec file and everything it extends, then applies override layers (ts/config/). */
export function composeSpec(file: string, overrides: OverrideLayer[] = []): ComposedSpec {
  return composeLayers(file, overrides, EXPERIMENT_SCHEMA);
}

/**
 * The composed spec with `values` on top (a sweep point), checked for required keys and consistency,
 * defaults filled, the dataset path made absolute (relative paths are relative to `cwd`).
 */
export function resolveSpec(
  c: ComposedSpec,
  values: Record<string, unknown> = {},
  cwd = process.cwd(),
): ExperimentSpec {
  const data = mergeSpecs(c.data, values);
  delete data.grid;
  const spec = checkResolved(c, data, EXPERIMENT_SCHEMA) as unknown as ExperimentSpec;
  spec.dataset = resolve(cwd, spec.dataset);
  const problems: string[] = [];
  // bf16 runs on either device (python/patch_fairseq.py, hunk 6); fairseq's fp16 path is CUDA-only
  // (dynamic loss scaling, fp32 master weights flattened on the current CUDA device).
  if (spec.precision === 'fp16' && spec.device !== 'cuda')
    problems.push(`${c.file}: precision fp16 needs device cuda (fairseq has no fp16 on CPU)`);
  if (spec.world_size > 1 && spec.device !== 'cuda')
    problems.push(`${c.file}: world_size ${spec.world_size} needs device cuda`);
  if (spec.model?.width !== undefined && spec.model.width % (spec.model.heads ?? ARCH_SIZES[spec.arch].heads) !== 0)
    problems.push(`${c.file}: model width ${spec.model.width} is not a multiple of the number of heads`);
  return acceptSpec(spec, problems, EXPERIMENT_SCHEMA);
}

/** Composes and resolves a spec for one run; refuses a sweep spec. */
export const loadSpec: SpecLoader<ExperimentSpec> = (file, overrides = [], cwd = process.cwd()) => {
  const composed = composeSpec(file, overrides);
  if (composed.data.grid !== undefined)
    throw new SpecError([`${composed.file}: this is a sweep spec (it has a 'grid'): run it with netflowgen sweep`]);
  return { spec: resolveSpec(composed, {}, cwd), composed };
};

// ---------------------------------------------------------------- sweeps

export interface SweepPoint {
  /** Folder name of the point's run: e.g. 4-4-128-512_lr5e-4_do0.3. */
  label: string;
  /** The grid values of this point. */
  values: Partial<Record<GridKey, string | number>>;
  spec: ExperimentSpec;
}

/** A number as short text: 0.0005 -> 5e-4, 0.3 -> 0.3, 128 -> 128. */
export function shortNumber(x: number): string {
  if (x !== 0 && Math.abs(x) < 0.01)
    return x
      .toExponential()
      .replace(/e-0*/, 'e-')
      .replace(/\.?0+e/, 'e');
  return String(x);
}

/** 'netflowgen_4_4_128_512' -> '4-4-128-512'; 'netflowgen_tiny' -> 'tiny'. */
export function archLabel(arch: string): string {
  return arch.replace(/^netflowgen_/, '').replace(/_/g, '-');
}

const AXIS_PREFIX: Record<GridKey, string> = {
  arch: '',
  learning_rate: 'lr',
  dropout: 'do',
  batch_size: 'bs',
  seed: 'seed',
  weight_decay: 'wd',
  feature_set: '',
  window: 'w',
};

export function pointLabel(values: Partial<Record<GridKey, string | number>>): string {
  return Object.entries(values)
    .map(([k, v]) =>
      k === 'arch' ? archLabel(String(v)) : `${AXIS_PREFIX[k as GridKey]}${typeof v === 'number' ? shortNumber(v) : v}`,
    )
    .join('_');
}

/**
 * Every point of a sweep spec's grid, in order: the first axis varies slowest. Each point is the
 * composed spec with the point's values on top, named for its values; all are resolved (and so
 * checked) before anything runs.
 */
export function expandSweep(c: ComposedSpec, cwd = process.cwd()): { name: string; points: SweepPoint[] } {
  const grid = c.data.grid as Grid | undefined;
  if (!grid) throw new SpecError([`${c.file}: not a sweep spec: it has no 'grid' (run it with netflowgen pretrain)`]);
  const axes = Object.entries(grid) as [GridKey, (string | number)[]][];
  let combos: Partial<Record<GridKey, string | number>>[] = [{}];
  for (const [k, vs] of axes) combos = combos.flatMap((c0) => vs.map((v) => ({ ...c0, [k]: v })));
  const name = String(c.data.name);
  const points = combos.map((values) => {
    const label = pointLabel(values);
    return { label, values, spec: resolveSpec(c, { ...values, name: label }, cwd) };
  });
  return { name, points };
}
