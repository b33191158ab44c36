/**
 * Experiment specs: JSON files under experiments/ that say what to pre-train (dataset, architecture,
 * optimiser settings, device). A spec is composed from several files, uni2ts/Moirai style:
 *
 *   experiments/pretrain/base.json              shared settings (lr 5e-4, dropout 0.3, Adam, 100 epochs)
 *   experiments/pretrain/sizes/4-4-256-1024.json  just the architecture
 *   experiments/pretrain/netflowgen-4-4-256-1024.json  { "extends": ["base.json", "sizes/4-4-256-1024.json"] }
 *
 * `extends` lists files relative to the file naming them; they merge in order, then the file's own
 * keys. Objects (model, grid) merge key by key; arrays and scalars replace. Every file is checked
 * against schemas/experiment.schema.json on its own (so an error names the file and line that holds
 * it, with a "did you mean" for misspelt keys and values), the composition once more for required keys,
 * and ajv fills the defaults written in the schema. The resolved spec is what runs: its hash decides
 * whether an existing run folder may be resumed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { schemaPath } from '../common/paths.js';
import { JsonSyntaxError, didYouMean, jsonLines, lineOf } from './suggest.js';

export const EXPERIMENT_SCHEMA = 'experiment.schema.json';

// The named sizes live in schemas/architectures.json (read by the Fairseq plugin too).
import { ARCHS, ARCH_SIZES, type Arch } from '../catalogue/architectures.js';
export { ARCHS, ARCH_SIZES, type Arch };

export interface ModelOverrides {
  layers?: number;
  heads?: number;
  width?: number;
  ffn?: number;
}

/** A resolved spec: every file merged, defaults filled, dataset path absolute. */
export interface ExperimentSpec {
  name: string;
  description?: string;
  dataset: string;
  arch: Arch;
  model?: ModelOverrides;
  window?: number;
  feature_set: 'full' | 'light';
  learning_rate: number;
  lr_scheduler: 'fixed' | 'inverse_sqrt';
  warmup_updates: number;
  adam_betas: [number, number];
  weight_decay: number;
  clip_norm: number;
  dropout: number;
  batch_size: number;
  max_epoch: number;
  max_update: number;
  patience: number;
  seed: number;
  log_interval: number;
  device: 'cpu' | 'cuda';
  precision: 'fp32' | 'bf16' | 'fp16';
  world_size: number;
  fairseq_args: string[];
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

/** A spec after composition, before defaults: what the files say, and which files said it. */
export interface ComposedSpec {
  /** The spec file given on the command line. */
  file: string;
  /** Every file that contributed, in merge order (the given file last), then any override source. */
  sources: string[];
  data: Record<string, unknown>;
}

/** A spec error: every problem found, each naming file, line and key. */
export class SpecError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} problems in the spec:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'SpecError';
  }
}

/** A layer of values that did not come from a file (command-line --set, --device ...). */
export interface OverrideLayer {
  source: string;
  values: Record<string, unknown>;
}

// ---------------------------------------------------------------- validation

/** Validators of a spec schema: each file as written, and the composed spec (with defaults filled). */
export interface SpecValidators {
  file: ValidateFunction;
  resolved: ValidateFunction;
  schema: SchemaNode;
}

const validatorCache = new Map<string, SpecValidators>();

export interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  $ref?: string;
  enum?: unknown[];
  definitions?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * The validators of a spec schema in schemas/ (default: pre-training specs). The schema needs a
 * #/definitions/resolved (the composed spec: required keys; ajv fills the defaults written there).
 */
export function getValidators(schemaName: string = EXPERIMENT_SCHEMA): SpecValidators {
  const cached = validatorCache.get(schemaName);
  if (cached) return cached;
  const schema = JSON.parse(readFileSync(schemaPath(schemaName), 'utf8')) as SchemaNode & { $id: string };
  // Two instances: files are checked as they are; the composed spec gets the schema's defaults.
  const plain = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  const filling = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
    useDefaults: true,
  });
  filling.addSchema(schema);
  const resolved = filling.getSchema(`${schema.$id}#/definitions/resolved`);
  if (!resolved) throw new Error(`${schemaName}: no #/definitions/resolved`);
  const validators = { file: plain.compile(schema), resolved, schema };
  validatorCache.set(schemaName, validators);
  return validators;
}

/** The schema's property names at a data path ('/model' -> layers, heads, ...), for hints. */
function knownKeys(parentSchema: unknown): string[] {
  const p = (parentSchema as SchemaNode | undefined)?.properties;
  return p ? Object.keys(p).filter((k) => k !== '$schema') : [];
}

/** Names people reach for that are not keys of a spec (fairseq's or the paper's words). */
const KEY_ALIASES: Record<string, string> = {
  lr: 'learning_rate',
  epochs: 'max_epoch',
  max_epochs: 'max_epoch',
  batch: 'batch_size',
  bsz: 'batch_size',
  data: 'dataset',
  features: 'feature_set',
  layers: 'model.layers',
  heads: 'model.heads',
  width: 'model.width',
  embed_dim: 'model.width',
  ffn: 'model.ffn',
  scheduler: 'lr_scheduler',
  betas: 'adam_betas',
};

function enumOf(e: ErrorObject): unknown[] {
  return ((e.params as { allowedValues?: unknown[] }).allowedValues ?? []) as unknown[];
}

/** Human messages for ajv errors, each prefixed with `where` and the line of the offending key. */
export function describeErrors(errors: ErrorObject[], where: string, lines?: Map<string, number>): string[] {
  const at = (ptr: string) => (lines ? `${where}:${lineOf(lines, ptr)}` : where);
  const name = (ptr: string) => (ptr ? ptr.slice(1).replace(/\//g, '.') : '(top level)');
  const out: string[] = [];
  for (const e of errors) {
    const ptr = e.instancePath;
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = knownKeys(e.parentSchema);
      const hint = ptr ? didYouMean(key, known) : (KEY_ALIASES[key.toLowerCase()] ?? didYouMean(key, known));
      const inside = ptr ? ` in ${name(ptr)}` : '';
      out.push(
        `${at(`${ptr}/${key}`)}: unknown key '${key}'${inside}${hint ? ` (did you mean '${hint}'?)` : `; known keys: ${known.join(', ')}`}`,
      );
    } else if (e.keyword === 'required') {
      // the whole path of a nested key: data.flows.alerts, not alerts
      out.push(
        `${at(ptr)}: missing key '${ptr ? `${name(ptr)}.` : ''}${(e.params as { missingProperty: string }).missingProperty}'`,
      );
    } else if (e.keyword === 'enum') {
      const allowed = enumOf(e).map(String);
      const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      out.push(
        `${at(ptr)}: ${name(ptr)} is ${JSON.stringify(e.data)}, not one of ${allowed.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}`,
      );
    } else {
      out.push(`${at(ptr)}: ${name(ptr)} ${e.message} (got ${JSON.stringify(e.data)})`);
    }
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------- composition

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` on top of `base`: objects merge key by key, everything else replaces. Returns a new object. */
export function mergeSpecs(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    out[k] =
      isPlainObject(v) && isPlainObject(out[k]) ? mergeSpecs(out[k] as Record<string, unknown>, v) : structuredClone(v);
  }
  return out;
}

/**
 * Reads one spec file and everything it `extends` (checked against `schemaName`, layer by layer),
 * merged in order. `own`, when given, transforms each file's own keys before the merge (e.g. to
 * resolve paths relative to that file).
 */
export function readLayer(
  file: string,
  chain: string[],
  sources: string[],
  schemaName: string,
  own?: (layer: Record<string, unknown>, dir: string) => Record<string, unknown>,
): Record<string, unknown> {
  const path = resolve(file);
  if (chain.includes(path))
    throw new SpecError([
      `${path}: 'extends' loops back to itself: ${[...chain, path].map((p) => basename(p)).join(' -> ')}`,
    ]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const from = chain.length ? ` (named in 'extends' of ${chain[chain.length - 1]})` : '';
    throw new SpecError([
      `${path}: cannot read the spec file${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    let where = '';
    try {
      jsonLines(text);
    } catch (located) {
      if (located instanceof JsonSyntaxError) where = `:${located.line}`;
    }
    throw new SpecError([`${path}${where}: not valid JSON: ${(e as Error).message.replace(/\s+/g, ' ')}`]);
  }
  const { file: validate } = getValidators(schemaName);
  if (!validate(raw)) throw new SpecError(describeErrors(validate.errors ?? [], path, jsonLines(text)));
  const layer = raw as Record<string, unknown>;
  const ext =
    layer.extends === undefined
      ? []
      : Array.isArray(layer.extends)
        ? (layer.extends as string[])
        : [layer.extends as string];
  let merged: Record<string, unknown> = {};
  for (const e of ext)
    merged = mergeSpecs(merged, readLayer(resolve(dirname(path), e), [...chain, path], sources, schemaName, own));
  let mine = { ...layer };
  delete mine.extends;
  delete mine.$schema;
  if (own) mine = own(mine, dirname(path));
  sources.push(path);
  return mergeSpecs(merged, mine);
}

/**
 * Reads a spec file and everything it extends, then applies override layers; checks every layer
 * against `schemaName` (default: the pre-training schema; fine-tuning specs use finetune.schema.json).
 */
export function composeSpec(
  file: string,
  overrides: OverrideLayer[] = [],
  schemaName: string = EXPERIMENT_SCHEMA,
): ComposedSpec {
  const sources: string[] = [];
  let data = readLayer(file, [], sources, schemaName);
  const { file: validate } = getValidators(schemaName);
  for (const o of overrides) {
    if (!Object.keys(o.values).length) continue;
    if (!validate(o.values)) throw new SpecError(describeErrors(validate.errors ?? [], o.source));
    if ('extends' in o.values) throw new SpecError([`${o.source}: 'extends' cannot be overridden`]);
    data = mergeSpecs(data, o.values);
    sources.push(o.source);
  }
  if (data.name === undefined) data.name = basename(file).replace(/\.json$/i, '');
  return { file: resolve(file), sources, data };
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
  const { resolved, schema } = getValidators();
  if (!resolved(data)) {
    const chain = c.sources.map((s) => basename(s)).join(', ');
    throw new SpecError(
      describeErrors(resolved.errors ?? [], c.file).map((m) =>
        m.includes('missing key') ? `${m}: set it in the spec or in a file it extends (${chain})` : m,
      ),
    );
  }
  const spec = data as unknown as ExperimentSpec;
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
  if (problems.length) throw new SpecError(problems);
  // Keys in the schema's order, so that spec.resolved.json reads like the schema.
  const order = Object.keys(schema.properties ?? {});
  return Object.fromEntries(
    order.filter((k) => k in spec).map((k) => [k, (spec as unknown as Record<string, unknown>)[k]]),
  ) as unknown as ExperimentSpec;
}

/** Composes and resolves a spec for one run; refuses a sweep spec. */
export function loadSpec(
  file: string,
  overrides: OverrideLayer[] = [],
  cwd = process.cwd(),
): { spec: ExperimentSpec; composed: ComposedSpec } {
  const composed = composeSpec(file, overrides);
  if (composed.data.grid !== undefined)
    throw new SpecError([`${composed.file}: this is a sweep spec (it has a 'grid'): run it with netflowgen sweep`]);
  return { spec: resolveSpec(composed, {}, cwd), composed };
}

/** Hash of what decides the result: the resolved spec without its description. */
export function specHash(spec: ExperimentSpec): string {
  const { description: _ignored, ...rest } = spec;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so that equal specs give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Top-level keys whose values differ between two specs (for "a different spec" messages). */
export function specDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => k !== 'description' && canonicalJson(a[k]) !== canonicalJson(b[k])).sort();
}

// ---------------------------------------------------------------- overrides from the command line

/**
 * `--set key=value` pairs as an override layer. Dotted keys reach into objects (model.layers=6);
 * values are JSON when they parse (numbers, true, arrays), else strings.
 */
export function parseSetArgs(pairs: readonly string[], source = '--set'): OverrideLayer {
  const values: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SpecError([`${source} ${p}: expected key=value`]);
    const path = p.slice(0, eq).split('.');
    const text = p.slice(eq + 1);
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      v = text;
    }
    let o = values;
    for (const k of path.slice(0, -1)) o = (o[k] = isPlainObject(o[k]) ? o[k] : {}) as Record<string, unknown>;
    o[path[path.length - 1]] = v;
  }
  return { source, values };
}

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
