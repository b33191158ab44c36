/**
 * Spec schemas (schemas/*.schema.json) compiled by ajv, and their errors as people read them: each
 * names the file, the line of the offending key and the key, with a "did you mean" for misspelt keys
 * and values.
 *
 * A spec schema may take definitions from other schema files of schemas/ (a property that is only
 * `{ "$ref": "training.schema.json#/definitions/seed" }`): every schema file is known to ajv under its
 * $id. ajv fills only the defaults written at a property itself, so a property that is a $ref without
 * a default of its own takes its target's default when the schema is loaded; the files stay plain
 * JSON Schema, and a setting shared by several kinds of spec is written once.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { schemaPath } from '../common/paths.js';
import { didYouMean, lineOf } from './suggest.js';

export interface SchemaNode {
  $id?: string;
  properties?: Record<string, SchemaNode>;
  $ref?: string;
  enum?: unknown[];
  default?: unknown;
  definitions?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** Validators of a spec schema: each file as written, and the composed spec (with defaults filled). */
export interface SpecValidators {
  file: ValidateFunction;
  resolved: ValidateFunction;
  schema: SchemaNode;
}

const validatorCache = new Map<string, SpecValidators>();

function readSchema(name: string): SchemaNode {
  return JSON.parse(readFileSync(schemaPath(name), 'utf8')) as SchemaNode;
}

/** The schema a $ref points at: '#/definitions/x' in `self`, or 'other.schema.json#/definitions/x'. */
function refTarget(ref: string, self: SchemaNode): SchemaNode | undefined {
  const [file, pointer = ''] = ref.split('#');
  let node: unknown = file ? readSchema(file) : self;
  for (const key of pointer.split('/').slice(1)) node = (node as Record<string, unknown> | undefined)?.[key];
  return node as SchemaNode | undefined;
}

/** Copies the default of each $ref'd property's target onto the property, where ajv looks for it. */
function hoistDefaults(schema: SchemaNode): SchemaNode {
  for (const p of Object.values(schema.properties ?? {})) {
    if (p.$ref === undefined || 'default' in p) continue;
    const target = refTarget(p.$ref, schema);
    if (target && 'default' in target) p.default = structuredClone(target.default);
  }
  return schema;
}

/** The other schema files of schemas/ that `schema` $refs ('training.schema.json#/...'), and theirs. */
function referencedFiles(schema: unknown, seen = new Set<string>()): Set<string> {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        const file = k === '$ref' && typeof x === 'string' ? x.split('#')[0] : '';
        if (file && !seen.has(file)) {
          seen.add(file);
          visit(readSchema(file));
        } else visit(x);
      }
  };
  visit(schema);
  return seen;
}

function newAjv(schema: SchemaNode, useDefaults: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
    useDefaults,
  });
  for (const file of referencedFiles(schema)) ajv.addSchema(readSchema(file));
  return ajv;
}

/**
 * The validators of a spec schema in schemas/. The schema needs a #/definitions/resolved (the composed
 * spec: required keys; ajv fills the defaults written there).
 */
export function getValidators(schemaName: string): SpecValidators {
  const cached = validatorCache.get(schemaName);
  if (cached) return cached;
  const schema = hoistDefaults(readSchema(schemaName)) as SchemaNode & { $id: string };
  // Two instances: files are checked as they are; the composed spec gets the schema's defaults.
  const plain = newAjv(schema, false);
  const filling = newAjv(schema, true);
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
