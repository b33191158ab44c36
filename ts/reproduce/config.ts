/**
 * The files `netflowgen reproduce` reads: a preset (experiments/presets/NAME.json: the data, the
 * models' specs and overrides, the list of tables) and one spec per table or figure
 * (experiments/tables/*.json). Both compose like experiment specs: `extends` names files (relative to
 * the file) merged in order, then the file's own keys; objects merge key by key, arrays and scalars
 * replace. Every file is checked on its own against its schema (an error names file, line and key,
 * with a "did you mean"), the composition once more for required keys, with the schema's defaults
 * filled. Paths written in a file are made absolute relative to that file as it is read, so a path
 * means the same wherever the file is extended from.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { didYouMean } from '../common/suggest.js';
import { packageRoot } from '../common/paths.js';
import { mergeSpecs, parseSetArgs, readLayer as readSpecLayer, SpecError } from '../config/compose.js';
import { describeErrors, getValidators } from '../config/validate.js';

export const PRESET_SCHEMA = 'reproduce-preset.schema.json';
export const TABLE_SCHEMA = 'reproduce-table.schema.json';

import type { TableKind } from '../report/plan.js';
export type { TableKind };
export type AttackTypeName = 'DNS' | 'NTP' | 'UDP' | 'SYN' | 'other';

export interface SynthSettings {
  preset?: 'tiny' | 'small' | 'paper';
  seed?: number;
  customers?: number;
  nodes?: number;
  days?: number;
  attacks?: number;
  attackRate?: number;
  attackMix?: Record<string, number>;
  victimRoles?: string[];
  history?: number;
  sampling?: number;
  trafficScale?: number;
  maxFlowsPerNodeMinute?: number;
  maxAttackFlowsPerMinute?: number;
  falsePositiveShare?: number;
  underReportedShare?: number;
  missedShare?: number;
  ipv6Share?: number;
  gzip?: boolean;
}

export interface FlowsSettings {
  inputs: string[];
  nodes?: string;
  prefixes?: string[];
  alerts: string;
  groundTruth?: string;
  sampling?: number;
  from?: string;
  to?: string;
}

export interface BinSettings {
  window: number;
  bins: number;
  split: string;
  minActive: number;
  excludeCustomers: string[];
  topK?: number;
  unseen: boolean;
}

export interface DetectSettings {
  detect: number;
  attackTypes: AttackTypeName[];
  unseenExamples: number;
  onset: 'cusum' | 'truth';
  negatives: 'alerts' | 'ground-truth';
  seed: number;
}

export interface Preset {
  name: string;
  description?: string;
  expected?: string;
  /** The preset file and every file it extends. */
  sources: string[];
  data: {
    source: 'synth' | 'flows';
    synth?: SynthSettings;
    flows?: FlowsSettings;
    bin: BinSettings;
    detect: DetectSettings;
  };
  pretrain: { spec: string; set?: Record<string, unknown> };
  sizes: { sweep: string; set?: Record<string, unknown> };
  finetune: { set?: Record<string, unknown>; arch?: Record<string, Record<string, unknown>> };
  tables: string[];
  /** Stages run side by side (reproduce --jobs overrides it). */
  jobs?: number;
  /** Seeds of the repeated trainings (schema defaults: [1], [1], 2000 replicates). */
  seeds?: { finetune?: number[]; pretrain?: number[]; bootstrap?: number };
  /** Per table id, keys laid over the table's spec. */
  tableOverrides?: Record<string, Record<string, unknown>>;
}

export interface PretrainRef {
  name: string;
  set?: Record<string, unknown>;
}

export interface TableModel {
  name: string;
  group?: string;
  /** A fine-tuning spec, or */
  finetune?: string;
  /** a simple detector that needs no training (not in the paper). */
  detector?: 'static' | 'ewma-cusum';
  pretrain?: PretrainRef;
}

export interface TableSpec {
  id: string;
  kind: TableKind;
  caption: string;
  description?: string;
  /** The table file and every file it extends. */
  sources: string[];
  pretrain?: PretrainRef;
  splits?: ('valid' | 'test')[];
  /** The models the table can show, by name (files extending each other add to it). */
  models?: Record<string, Omit<TableModel, 'name'>>;
  /** The models shown, in order (default: all). */
  show?: string[];
  attackTypes?: AttackTypeName[];
  bound?: number;
  bounds?: number[];
  split?: 'valid' | 'test';
  unseenSplits?: ('valid' | 'test')[];
  /** generation: the nodes sampled (the first training nodes), the span's minutes (default: the split), the plot's nodes and minutes. */
  maxNodes?: number;
  minutes?: number;
  plotNodes?: number;
  plotMinutes?: number;
}

// ---------------------------------------------------------------- schemas

// Spec files are read, checked and composed by the same code as training specs (ts/config/).

// ---------------------------------------------------------------- composition

/** Keys holding paths, as JSON pointers with * for array items: made absolute against the file's folder. */
const PATH_KEYS: Record<string, string[]> = {
  [PRESET_SCHEMA]: [
    '/pretrain/spec',
    '/sizes/sweep',
    '/tables/*',
    '/data/flows/inputs/*',
    '/data/flows/nodes',
    '/data/flows/alerts',
    '/data/flows/groundTruth',
  ],
  [TABLE_SCHEMA]: ['/models/*/finetune'],
};

function absolutize(value: unknown, pointer: string[], dir: string): unknown {
  if (!pointer.length) return typeof value === 'string' ? resolve(dir, value) : value;
  const [head, ...rest] = pointer;
  if (head === '*') {
    if (Array.isArray(value)) return value.map((v) => absolutize(v, rest, dir));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, absolutize(v, rest, dir)]));
    return value;
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && head in value) {
    const o = value as Record<string, unknown>;
    return { ...o, [head]: absolutize(o[head], rest, dir) };
  }
  return value;
}

function readLayer(schemaFile: string, file: string, chain: string[], sources: string[]): Record<string, unknown> {
  return readSpecLayer(file, chain, sources, schemaFile, (layer, dir) => {
    for (const p of PATH_KEYS[schemaFile] ?? [])
      layer = absolutize(layer, p.split('/').slice(1), dir) as Record<string, unknown>;
    return layer;
  });
}

/** A file composed with everything it extends, plus override layers, checked and with defaults. */
export function composeFile<T>(
  schemaFile: string,
  file: string,
  overrides: { source: string; values: Record<string, unknown> }[] = [],
): T & { sources: string[] } {
  const sources: string[] = [];
  let data = readLayer(schemaFile, file, [], sources);
  const { file: validate, resolved } = getValidators(schemaFile);
  for (const o of overrides) {
    if (!Object.keys(o.values).length) continue;
    if (!validate(o.values)) throw new SpecError(describeErrors(validate.errors ?? [], o.source));
    data = mergeSpecs(data, o.values);
    sources.push(o.source);
  }
  if (data.name === undefined && schemaFile === PRESET_SCHEMA) data.name = basename(file).replace(/\.json$/i, '');
  if (!resolved(data)) {
    const chain = sources.map((s) => basename(s)).join(', ');
    throw new SpecError(
      describeErrors(resolved.errors ?? [], resolve(file)).map((m) =>
        m.includes('missing key') ? `${m}: set it in the file or in one it extends (${chain})` : m,
      ),
    );
  }
  return { ...(data as T), sources };
}

// ---------------------------------------------------------------- presets and tables

/** The folder of the shipped presets. */
export function presetsDir(): string {
  return join(packageRoot(), 'experiments', 'presets');
}

/** A preset by name (micro, tiny, small, paper) or by path to a preset file; an unknown name lists the presets. */
export function presetFile(nameOrPath: string): string {
  if (/[\\/]|\.json$/i.test(nameOrPath)) return resolve(nameOrPath);
  const file = join(presetsDir(), `${nameOrPath}.json`);
  if (!existsSync(file)) {
    const names = readdirSync(presetsDir())
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
    throw new SpecError([
      `unknown preset '${nameOrPath}': ${didYouMean(nameOrPath, names, 'presets')} (or a preset file's path)`,
    ]);
  }
  return file;
}

/** Loads a preset; `set` are `key.path=value` overrides from the command line. */
export function loadPreset(nameOrPath: string, set: readonly string[] = []): Preset {
  const file = presetFile(nameOrPath);
  const overrides = set.length ? [parseSetArgs(set, '--set')] : [];
  return composeFile<Preset>(PRESET_SCHEMA, file, overrides);
}

export function loadTable(file: string, overrides: Record<string, Record<string, unknown>> = {}): TableSpec {
  const t = composeFile<TableSpec>(TABLE_SCHEMA, file);
  const over = overrides[t.id];
  return over
    ? composeFile<TableSpec>(TABLE_SCHEMA, file, [{ source: `the preset's tableOverrides.${t.id}`, values: over }])
    : t;
}

/** The models a table shows, in order; a shown name without a model is an error naming the file. */
export function tableModels(t: TableSpec): TableModel[] {
  const all = t.models ?? {};
  const names = t.show ?? Object.keys(all);
  const missing = names.filter((n) => !(n in all));
  if (missing.length)
    throw new SpecError([
      `${t.sources[t.sources.length - 1]}: 'show' names ${missing.join(', ')}, not among the models (${Object.keys(all).join(', ') || 'none'})`,
    ]);
  return names.map((name) => ({ name, ...all[name] }));
}

/**
 * The preset's tables, in its order; `only` (ids, e.g. table5, figure5) keeps those, refusing
 * unknown ids with the list of known ones. Two tables with the same id are an error.
 */
export function selectTables(preset: Preset, only?: readonly string[]): TableSpec[] {
  const tables = preset.tables.map((f) => loadTable(f, preset.tableOverrides));
  const unknownOverrides = Object.keys(preset.tableOverrides ?? {}).filter((id) => !tables.some((t) => t.id === id));
  if (unknownOverrides.length)
    throw new SpecError([
      `${preset.sources[preset.sources.length - 1]}: tableOverrides names ${unknownOverrides.join(', ')}, not a table of the preset (${tables.map((t) => t.id).join(', ')})`,
    ]);
  const seen = new Set<string>();
  for (const t of tables) {
    if (seen.has(t.id))
      throw new SpecError([`${preset.sources[preset.sources.length - 1]}: two tables have the id '${t.id}'`]);
    seen.add(t.id);
  }
  if (!only?.length) return tables;
  const ids = only
    .flatMap((o) => o.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = ids.filter((id) => !seen.has(id));
  if (unknown.length)
    throw new SpecError([
      `--only: no table or figure '${unknown.join("', '")}' in preset ${preset.name} (it has ${[...seen].join(', ')})`,
    ]);
  return tables.filter((t) => ids.includes(t.id));
}
