/**
 * Spec files that compose, uni2ts/Moirai style: pre-training and fine-tuning specs (experiments/),
 * reproduce presets and table specs all read this way.
 *
 *   experiments/pretrain/base.json              shared settings (lr 5e-4, dropout 0.3, Adam, 100 epochs)
 *   experiments/pretrain/sizes/4-4-256-1024.json  just the architecture
 *   experiments/pretrain/netflowgen-4-4-256-1024.json  { "extends": ["base.json", "sizes/4-4-256-1024.json"] }
 *
 * `extends` lists files relative to the file naming them; they merge in order, then the file's own
 * keys. Objects merge key by key; arrays and scalars replace. Every file is checked against its schema
 * on its own (so an error names the file and line that holds it), the composition once more for
 * required keys, and ajv fills the defaults written in the schema. A resolved spec's hash (sha256 of
 * its canonical JSON, the description left out) says whether two runs are the same.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { JsonSyntaxError, jsonLines } from './suggest.js';
import { describeErrors, getValidators } from './validate.js';

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
 * against `schemaName`. A spec without a name takes its file's name.
 */
export function composeLayers(file: string, overrides: OverrideLayer[], schemaName: string): ComposedSpec {
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
 * `data` (a composition of `c`) checked against the schema's #/definitions/resolved, defaults filled in
 * place: a missing key names the files the spec is made of. Returns `data`.
 */
export function checkResolved(c: ComposedSpec, data: Record<string, unknown>, schemaName: string) {
  const { resolved } = getValidators(schemaName);
  if (!resolved(data)) {
    const chain = c.sources.map((s) => basename(s)).join(', ');
    throw new SpecError(
      describeErrors(resolved.errors ?? [], c.file).map((m) =>
        m.includes('missing key') ? `${m}: set it in the spec or in a file it extends (${chain})` : m,
      ),
    );
  }
  return data;
}

/** How a kind of spec is loaded: composed from `file` and the override layers, then resolved (paths against `cwd`). */
export type SpecLoader<T> = (
  file: string,
  overrides?: OverrideLayer[],
  cwd?: string,
) => { spec: T; composed: ComposedSpec };

/** A resolved spec in its schema's key order, or a SpecError naming every problem found in it. */
export function acceptSpec<T extends object>(spec: T, problems: string[], schemaName: string): T {
  if (problems.length) throw new SpecError(problems);
  return inSchemaOrder(spec, schemaName);
}

/** The spec's keys in the schema's order, so that spec.resolved.json reads like the schema. */
export function inSchemaOrder<T extends object>(spec: T, schemaName: string): T {
  const order = Object.keys(getValidators(schemaName).schema.properties ?? {});
  const s = spec as Record<string, unknown>;
  return Object.fromEntries(order.filter((k) => k in s).map((k) => [k, s[k]])) as T;
}

/** Hash of what decides the result: the resolved spec without its description. */
export function specHash(spec: object): string {
  const { description: _ignored, ...rest } = spec as { description?: unknown };
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
