/**
 * The feature catalogue: the 86 per-node, per-minute traffic features of the paper's Table 3
 * (SPEC §1), kept as data. Every other part of netflowgen names features through this list, so a
 * subset (NetFlowGen_Light: the 6 volume features) is a configuration choice, not code.
 *
 * Order (stable, part of the store format): volume (6), protocol (24), port class (48), TCP flags (8).
 * Within a group: direction (in, out), then class, then measure (pkt, byt, flow).
 */
import { readFileSync } from 'node:fs';
import { schemaPath } from '../common/paths.js';

export const DIRECTIONS = ['in', 'out'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const MEASURES = ['pkt', 'byt', 'flow'] as const;
export type Measure = (typeof MEASURES)[number];

/** Protocol classes: ICMP (1, and ICMPv6 58: our reading), TCP (6), UDP (17), everything else. */
export const PROTOCOL_CLASSES = ['icmp', 'tcp', 'udp', 'other'] as const;
export type ProtocolClass = (typeof PROTOCOL_CLASSES)[number];

/**
 * Port classes. Incoming flows are classed by destination port, outgoing by source port; flows
 * without ports (ICMP, other protocols) fall in class 0.
 *   port0, port53, port80, port123, port443: the port itself;
 *   portwk: other well-known ports 1-1023; portreg: registered 1024-49151; portpriv: 49152-65535.
 */
export const PORT_CLASSES = [
  'port0',
  'port53',
  'port80',
  'port123',
  'port443',
  'portwk',
  'portreg',
  'portpriv',
] as const;
export type PortClass = (typeof PORT_CLASSES)[number];

/** TCP flag bytes counted (outgoing TCP flows whose cumulative flag byte equals the value; flows only). */
export const FLAG_VALUES = [0, 16, 24, 2, 17, 18, 4, 25] as const;

export const FEATURE_GROUPS = ['volume', 'protocol', 'port', 'flag'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];

export interface FeatureDef {
  /** Position in the catalogue (and in every stored feature vector). */
  readonly index: number;
  /** Stable name, e.g. `in.byt`, `in.udp.byt`, `out.port443.flow`, `out.flag18.flow`. */
  readonly name: string;
  readonly group: FeatureGroup;
  readonly direction: Direction;
  readonly measure: Measure;
  /** Protocol class, port class or flag value; absent for volume features. */
  readonly cls?: ProtocolClass | PortClass | number;
}

function buildCatalogue(): FeatureDef[] {
  const out: FeatureDef[] = [];
  const push = (f: Omit<FeatureDef, 'index'>) => out.push({ index: out.length, ...f });
  for (const direction of DIRECTIONS)
    for (const measure of MEASURES) push({ name: `${direction}.${measure}`, group: 'volume', direction, measure });
  for (const direction of DIRECTIONS)
    for (const cls of PROTOCOL_CLASSES)
      for (const measure of MEASURES)
        push({ name: `${direction}.${cls}.${measure}`, group: 'protocol', direction, measure, cls });
  for (const direction of DIRECTIONS)
    for (const cls of PORT_CLASSES)
      for (const measure of MEASURES)
        push({ name: `${direction}.${cls}.${measure}`, group: 'port', direction, measure, cls });
  for (const cls of FLAG_VALUES)
    push({ name: `out.flag${cls}.flow`, group: 'flag', direction: 'out', measure: 'flow', cls });
  return out;
}

/** All 86 features, in store order. */
export const FEATURES: readonly FeatureDef[] = Object.freeze(buildCatalogue());
export const FEATURE_NAMES: readonly string[] = Object.freeze(FEATURES.map((f) => f.name));
export const N_FEATURES = FEATURES.length;

const byName = new Map(FEATURES.map((f) => [f.name, f] as const));

/** Index of a feature by name; throws with the list of valid names' pattern on an unknown name. */
export function featureIndex(name: string): number {
  const f = byName.get(name);
  if (!f)
    throw new Error(
      `unknown feature '${name}' (names look like in.byt, in.udp.pkt, out.port443.flow, out.flag18.flow)`,
    );
  return f.index;
}

/** The file of named feature subsets besides `full`, in schemas/ (the Fairseq plugin reads it too). */
export const FEATURE_SETS_FILE = 'feature-sets.json';

/** Reads and checks a table of named feature subsets: each a non-empty list of catalogue names, in catalogue order. */
export function parseFeatureSets(text: string, file = FEATURE_SETS_FILE): Record<string, readonly string[]> {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, readonly string[]> = {};
  for (const [name, entry] of Object.entries(raw)) {
    if (name.startsWith('$')) continue;
    if (name === 'full') throw new Error(`${file}: 'full' is every feature and is not listed`);
    const features = (entry as { features?: unknown } | null)?.features;
    if (!Array.isArray(features) || features.length === 0 || features.some((f) => typeof f !== 'string'))
      throw new Error(`${file}: ${name}.features: expected a non-empty list of feature names`);
    const idx = (features as string[]).map((f) => {
      if (!byName.has(f)) throw new Error(`${file}: ${name}: unknown feature '${f}'`);
      return featureIndex(f);
    });
    if (idx.some((v, i) => i > 0 && v <= idx[i - 1]))
      throw new Error(`${file}: ${name}.features: list each feature once, in catalogue order`);
    out[name] = Object.freeze([...(features as string[])]);
  }
  return out;
}

/**
 * Named feature subsets: `full` (every feature) and those of schemas/feature-sets.json, where `light` is
 * the paper's NetFlowGen_Light (Table 9, the 6 volume features).
 */
export const FEATURE_SETS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  full: FEATURE_NAMES,
  ...parseFeatureSets(readFileSync(schemaPath(FEATURE_SETS_FILE), 'utf8'), schemaPath(FEATURE_SETS_FILE)),
});

/**
 * The columns of a dataset (its manifest's feature names, in its order) that a model of feature set `set`
 * reads: every column for `full`, else the set's features, in dataset order. The same rule as
 * select_features in fairseq_plugins/dataset.py; throws when the dataset lacks one of the set's features.
 */
export function selectFeatureColumns(datasetFeatures: readonly string[], set: string): number[] {
  if (set === 'full') return datasetFeatures.map((_, i) => i);
  const names = FEATURE_SETS[set];
  if (!names) throw new Error(`unknown feature set '${set}': choose one of ${Object.keys(FEATURE_SETS).join(', ')}`);
  const missing = names.filter((n) => !datasetFeatures.includes(n));
  if (missing.length) throw new Error(`feature set ${set} needs ${missing.join(', ')}, which the dataset lacks`);
  const wanted = new Set(names);
  return datasetFeatures.flatMap((n, i) => (wanted.has(n) ? [i] : []));
}

/** Resolves a feature-set name or a comma-separated list of feature names to catalogue indices. */
export function resolveFeatures(spec: string | readonly string[]): number[] {
  if (typeof spec === 'string') {
    const set = FEATURE_SETS[spec];
    if (set) return set.map(featureIndex);
    spec = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return spec.map(featureIndex);
}

// ---- classifiers used by aggregation (pure, hot path) ----------------------------------------

/** Protocol class index (into PROTOCOL_CLASSES) of an IANA protocol number. */
export function protocolClass(proto: number): number {
  switch (proto) {
    case 1:
    case 58:
      return 0;
    case 6:
      return 1;
    case 17:
      return 2;
    default:
      return 3;
  }
}

/** Port class index (into PORT_CLASSES) of a port; `hasPorts` false for ICMP and other protocols. */
export function portClass(port: number, hasPorts: boolean): number {
  if (!hasPorts || port <= 0) return 0;
  switch (port) {
    case 53:
      return 1;
    case 80:
      return 2;
    case 123:
      return 3;
    case 443:
      return 4;
  }
  if (port <= 1023) return 5;
  if (port <= 49151) return 6;
  return 7;
}

/** Index into FLAG_VALUES of a TCP flag byte, or -1 when the byte is not one of the counted values. */
export function flagClass(flags: number): number {
  switch (flags) {
    case 0:
      return 0;
    case 16:
      return 1;
    case 24:
      return 2;
    case 2:
      return 3;
    case 17:
      return 4;
    case 18:
      return 5;
    case 4:
      return 6;
    case 25:
      return 7;
    default:
      return -1;
  }
}

/** Catalogue offsets used by the aggregator: add measure index (0 pkt, 1 byt, 2 flow) to a base. */
export const OFFSETS = Object.freeze({
  volume: [0, 3] as const,
  protocol: [6, 18] as const, // + 3 * protocolClass
  port: [30, 54] as const, // + 3 * portClass
  flag: 78, // + flagClass
});
