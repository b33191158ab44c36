// The TypeScript types of the files the stages exchange, checked against their JSON Schemas in schemas/:
// the compiler's own view of each interface (the TypeScript API, reading ts/ as tsc does) is compared with
// the schema, field by field: the same keys, the same optional ones (not in `required`), the same value
// types (integer reads as number), literal unions against const/enum, arrays, records and nested objects.
// A schema that says nothing about a field (`{}`, `{"type": "object"}`) accepts any type there. The last
// test mutates the schemas and checks that each change is caught, so this cannot pass by comparing nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { packageRoot, schemaPath } from '../ts/common/paths.js';

/** A type as both sides can say it. */
type Shape =
  | { k: 'any' }
  | { k: 'null' | 'boolean' | 'number' | 'string' }
  | { k: 'literal'; value: string | number | boolean }
  | { k: 'array'; items: Shape }
  | { k: 'tuple'; items: Shape[] }
  | { k: 'object'; props: Map<string, { shape: Shape; optional: boolean }>; rest: Shape | null }
  | { k: 'union'; members: Shape[] };

const ANY: Shape = { k: 'any' };

// ---------------------------------------------------------------- TypeScript side

function tsShape(checker: ts.TypeChecker, type: ts.Type, depth = 0): Shape {
  if (depth > 12) return ANY;
  const f = type.flags;
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return ANY;
  if (type.isUnion()) {
    const members = type.types
      .filter((t) => !(t.flags & ts.TypeFlags.Undefined))
      .map((t) => tsShape(checker, t, depth));
    // true | false is boolean
    const bools = members.filter((m) => m.k === 'literal' && typeof m.value === 'boolean');
    const rest = members.filter((m) => !(m.k === 'literal' && typeof m.value === 'boolean'));
    const all: Shape[] = bools.length === 2 ? [...rest, { k: 'boolean' }] : members;
    return all.length === 1 ? all[0] : { k: 'union', members: all };
  }
  if (f & ts.TypeFlags.Null) return { k: 'null' };
  if (f & ts.TypeFlags.String) return { k: 'string' };
  if (f & ts.TypeFlags.Number) return { k: 'number' };
  if (f & ts.TypeFlags.Boolean) return { k: 'boolean' };
  if (type.isStringLiteral() || type.isNumberLiteral()) return { k: 'literal', value: type.value };
  if (f & ts.TypeFlags.BooleanLiteral) return { k: 'literal', value: checker.typeToString(type) === 'true' };
  if (checker.isTupleType(type))
    return {
      k: 'tuple',
      items: checker.getTypeArguments(type as ts.TypeReference).map((t) => tsShape(checker, t, depth + 1)),
    };
  if (checker.isArrayType(type))
    return { k: 'array', items: tsShape(checker, checker.getTypeArguments(type as ts.TypeReference)[0], depth + 1) };
  if (f & ts.TypeFlags.Object) {
    const props = new Map<string, { shape: Shape; optional: boolean }>();
    for (const p of checker.getPropertiesOfType(type)) {
      const t = checker.getTypeOfSymbol(p);
      props.set(p.name, { shape: tsShape(checker, t, depth + 1), optional: (p.flags & ts.SymbolFlags.Optional) !== 0 });
    }
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    return { k: 'object', props, rest: index ? tsShape(checker, index.type, depth + 1) : null };
  }
  throw new Error(`unhandled TypeScript type ${checker.typeToString(type)}`);
}

let program: ts.Program | undefined;

/** The shape of an exported interface or type alias of a file under ts/, as the compiler sees it. */
function typeShape(file: string, name: string): Shape {
  const path = join(packageRoot(), file);
  program ??= ts.createProgram(
    TYPES.map((t) => join(packageRoot(), t.file)),
    {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      resolveJsonModule: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path);
  if (!source) throw new Error(`${file}: not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
  if (!symbol) throw new Error(`${file}: no exported ${name}`);
  return tsShape(checker, checker.getDeclaredTypeOfSymbol(symbol));
}

// ---------------------------------------------------------------- schema side

type Schema = Record<string, unknown>;

function schemaShape(schema: Schema | boolean, root: Schema, depth = 0): Shape {
  if (schema === true || depth > 12) return ANY;
  if (schema === false) throw new Error('schema false');
  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local $ref are followed here: ${ref}`);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Schema)[k], root);
    return schemaShape(target as Schema, root, depth + 1);
  }
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
  const alts = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (alts) return union(alts.map((a) => schemaShape(a, root, depth + 1)));
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length === 0) return ANY;
  return union(types.map((t) => typed(t as string, schema, root, depth)));
}

function typed(type: string, schema: Schema, root: Schema, depth: number): Shape {
  switch (type) {
    case 'null':
    case 'boolean':
    case 'string':
    case 'number':
      return { k: type };
    case 'integer':
      return { k: 'number' };
    case 'array': {
      const items = schema.items as Schema | Schema[] | undefined;
      if (Array.isArray(items)) return { k: 'tuple', items: items.map((s) => schemaShape(s, root, depth + 1)) };
      if (!items) return { k: 'array', items: ANY };
      // [a, b] written as minItems = maxItems = 2 of one item type is a tuple in TypeScript
      if (typeof schema.minItems === 'number' && schema.minItems === schema.maxItems)
        return { k: 'tuple', items: Array(schema.minItems).fill(schemaShape(items, root, depth + 1)) as Shape[] };
      return { k: 'array', items: schemaShape(items, root, depth + 1) };
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const props = new Map<string, { shape: Shape; optional: boolean }>();
      for (const [k, s] of Object.entries(properties))
        props.set(k, { shape: schemaShape(s, root, depth + 1), optional: !required.has(k) });
      const extra = schema.additionalProperties;
      const rest =
        extra === false
          ? null
          : extra === undefined || extra === true
            ? ANY
            : schemaShape(extra as Schema, root, depth + 1);
      return { k: 'object', props, rest };
    }
  }
  throw new Error(`unhandled schema type ${type}`);
}

function literal(v: unknown): Shape {
  if (v === null) return { k: 'null' };
  if (Array.isArray(v)) return { k: 'tuple', items: v.map(literal) };
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { k: 'literal', value: v };
  throw new Error(`unhandled const ${JSON.stringify(v)}`);
}

function union(members: Shape[]): Shape {
  const flat = members.flatMap((m) => (m.k === 'union' ? m.members : [m]));
  return flat.length === 1 ? flat[0] : { k: 'union', members: flat };
}

// ---------------------------------------------------------------- comparison

function show(s: Shape): string {
  switch (s.k) {
    case 'literal':
      return JSON.stringify(s.value);
    case 'array':
      return `${show(s.items)}[]`;
    case 'tuple':
      return `[${s.items.map(show).join(', ')}]`;
    case 'object':
      return `{${[...s.props.keys()].join(', ')}${s.rest ? ', ...' : ''}}`;
    case 'union':
      return s.members.map(show).join(' | ');
    default:
      return s.k;
  }
}

/** Where a TypeScript type and a schema disagree, each as 'path: what'. */
export function disagreements(t: Shape, s: Shape, path = '$'): string[] {
  if (s.k === 'any') return []; // the schema does not constrain this
  if (t.k === 'any') return [`${path}: TypeScript leaves it open, the schema says ${show(s)}`];
  const tm = t.k === 'union' ? t.members : [t];
  const sm = s.k === 'union' ? s.members : [s];
  if (tm.length > 1 || sm.length > 1) return unionDisagreements(tm, sm, path);
  if (t.k !== s.k) return [`${path}: TypeScript ${show(t)}, schema ${show(s)}`];
  switch (t.k) {
    case 'literal':
      return t.value === (s as typeof t).value ? [] : [`${path}: TypeScript ${show(t)}, schema ${show(s)}`];
    case 'array':
      return disagreements(t.items, (s as typeof t).items, `${path}[]`);
    case 'tuple': {
      const si = (s as typeof t).items;
      if (si.length !== t.items.length) return [`${path}: TypeScript ${show(t)}, schema ${show(s)}`];
      return t.items.flatMap((x, i) => disagreements(x, si[i], `${path}[${i}]`));
    }
    case 'object':
      return objectDisagreements(t, s as typeof t, path);
    default:
      return [];
  }
}

function objectDisagreements(t: Extract<Shape, { k: 'object' }>, s: Extract<Shape, { k: 'object' }>, path: string) {
  const out: string[] = [];
  for (const [k, tp] of t.props) {
    const sp = s.props.get(k);
    if (!sp) {
      if (s.rest) out.push(...disagreements(tp.shape, s.rest, `${path}.${k}`));
      else out.push(`${path}.${k}: in TypeScript, not in the schema`);
      continue;
    }
    if (tp.optional !== sp.optional)
      out.push(
        `${path}.${k}: ${tp.optional ? 'optional' : 'required'} in TypeScript, ${sp.optional ? 'optional' : 'required'} in the schema`,
      );
    out.push(...disagreements(tp.shape, sp.shape, `${path}.${k}`));
  }
  for (const [k, sp] of s.props) {
    if (t.props.has(k)) continue;
    if (t.rest) out.push(...disagreements(t.rest, sp.shape, `${path}.${k}`));
    else out.push(`${path}.${k}: in the schema, not in TypeScript`);
  }
  if (t.rest && !s.rest) out.push(`${path}: TypeScript allows any key, the schema only its properties`);
  if (!t.rest && s.rest && s.rest.k !== 'any' && t.props.size === 0)
    out.push(`${path}: the schema allows more keys (${show(s.rest)}), TypeScript none`);
  if (t.rest && s.rest) out.push(...disagreements(t.rest, s.rest, `${path}[key]`));
  return out;
}

/**
 * Unions: the same primitive members and literals; object/array members paired by kind (objects by their `kind`
 * literal, or their `event` literal: the scripts' JSON lines).
 */
function unionDisagreements(tm: Shape[], sm: Shape[], path: string): string[] {
  const key = (m: Shape) => (m.k === 'literal' ? `=${JSON.stringify(m.value)}` : m.k);
  const simple = (m: Shape) => !['object', 'array', 'tuple'].includes(m.k);
  const ts1 = new Set(tm.filter(simple).map(key));
  const ss1 = new Set(sm.filter(simple).map(key));
  const out: string[] = [];
  const same = ts1.size === ss1.size && [...ts1].every((k) => ss1.has(k));
  if (!same)
    out.push(
      `${path}: TypeScript ${tm.filter(simple).map(show).join(' | ')}, schema ${sm.filter(simple).map(show).join(' | ')}`,
    );
  const tc = tm.filter((m) => !simple(m));
  const sc = sm.filter((m) => !simple(m));
  if (tc.length !== sc.length)
    return [...out, `${path}: TypeScript ${tm.map(show).join(' | ')}, schema ${sm.map(show).join(' | ')}`];
  const tag = (m: Shape) => {
    const kind = m.k === 'object' ? (m.props.get('kind') ?? m.props.get('event'))?.shape : undefined;
    return kind?.k === 'literal' ? `${m.k}:${String(kind.value)}` : m.k;
  };
  for (const t of tc) {
    const s = sc.find((x) => tag(x) === tag(t));
    out.push(...(s ? disagreements(t, s, `${path}<${tag(t)}>`) : [`${path}: no schema alternative for ${show(t)}`]));
  }
  return out;
}

// ---------------------------------------------------------------- the contracts

const TYPES = [
  { schema: 'series-store.schema.json', file: 'ts/serialize/store.ts', type: 'SeriesStoreManifest' },
  { schema: 'binned-dataset.schema.json', file: 'ts/datasets/binned.ts', type: 'BinnedManifest' },
  { schema: 'earlydetect.schema.json', file: 'ts/earlydetect/manifest.ts', type: 'EarlyDetectManifest' },
  { schema: 'generated-series.schema.json', file: 'ts/generate/generate.ts', type: 'GeneratedManifest' },
  { schema: 'alerts.schema.json', file: 'ts/catalogue/alerts.ts', type: 'AlertLine' },
  { schema: 'ground-truth.schema.json', file: 'ts/catalogue/alerts.ts', type: 'GroundTruthLine' },
  { schema: 'watch-alert.schema.json', file: 'ts/watch/alerts.ts', type: 'WatchAlert' },
  { schema: 'generate-sample.schema.json', file: 'ts/generate/series.ts', type: 'SampleRecord' },
  { schema: 'generation-eval.schema.json', file: 'ts/generate/generation.ts', type: 'GenerationEvaluation' },
  { schema: 'python-events.schema.json#/definitions/score', file: 'ts/bridge/events.ts', type: 'ScoreEvent' },
  {
    schema: 'python-events.schema.json#/definitions/score_detect',
    file: 'ts/bridge/events.ts',
    type: 'ScoreDetectEvent',
  },
  { schema: 'python-events.schema.json#/definitions/generate', file: 'ts/bridge/events.ts', type: 'GenerateEvent' },
];

/**
 * Differences found in types this test does not own, each with why it is left: the test fails if one goes
 * away (remove it here) or a new one appears.
 */
const KNOWN: Record<string, string[]> = {
  EarlyDetectManifest: [
    // the schema fixes the column order; the interface says string[]
    '$.columns: TypeScript string[], schema ["row", "start", "label", "onsetStep", "attackType", "alert"]',
    // the schema says any string; the interface (KeptAlert) says one of the five attack types
    '$.alerts[].attack_type: TypeScript "DNS" | "NTP" | "UDP" | "SYN" | "other", schema string',
  ],
  // the schema says three dimensions; the interface says number[]
  GeneratedManifest: ['$.files.bins.shape: TypeScript number[], schema [number, number, number]'],
  SampleRecord: ['$.files.bins.shape: TypeScript number[], schema [number, number, number]'],
};

const readSchema = (name: string) => JSON.parse(readFileSync(schemaPath(name), 'utf8')) as Schema;

describe('TypeScript types agree with schemas/', function () {
  this.timeout(120_000); // one TypeScript program over ts/

  for (const { schema, file, type } of TYPES) {
    it(`${type} (${file}) is ${schema}`, () => {
      const [name, pointer] = schema.split('#');
      const s = readSchema(name);
      const shape = schemaShape(pointer ? { $ref: `#${pointer}` } : s, s);
      expect(disagreements(typeShape(file, type), shape)).to.deep.equal(KNOWN[type] ?? []);
    });
  }

  it("pairs a script's lines by their event: a field renamed in one of them is found there", () => {
    const t = typeShape('ts/bridge/events.ts', 'ScoreDetectEvent');
    const s = readSchema('python-events.schema.json');
    const progress = ((s.definitions as Schema).score_detect as { oneOf: Schema[] }).oneOf[0];
    const props = progress.properties as Schema;
    props.examples_finished = props.examples_done;
    delete props.examples_done;
    expect(disagreements(t, schemaShape({ $ref: '#/definitions/score_detect' }, s))).to.deep.equal([
      '$<object:progress>.examples_done: in TypeScript, not in the schema',
      '$<object:progress>.examples_finished: in the schema, not in TypeScript',
    ]);
  });

  it('finds a number the schema lets be null and the type does not, in a $ref, a record and an array', () => {
    const t = typeShape('ts/generate/generation.ts', 'GenerationEvaluation');
    const s = readSchema('generation-eval.schema.json');
    const defs = s.definitions as Record<string, Schema>;
    (defs.metrics.properties as Schema).equalShare = { $ref: '#/definitions/num' };
    defs.byName.additionalProperties = { type: ['number', 'null'] };
    (defs.plotted.properties as Schema).values = { type: ['array', 'null'], items: { $ref: '#/definitions/num' } };
    const found = disagreements(t, schemaShape(s, s));
    expect(found).to.include('$.rows[].metrics<object>.equalShare: TypeScript number, schema number | null');
    expect(found).to.include(
      '$.rows[].metrics<object>.corrErrorByGroupPair[key]: TypeScript number, schema number | null',
    );
    expect(found).to.include('$.rows[].metrics<object>.jsdByGroup.volume: TypeScript number, schema number | null');
    expect(found).to.include('$.series[].real.values<array>[]: TypeScript number, schema number | null');
  });

  it('catches a schema that drifts: a renamed, retyped, newly required or removed field, a changed enum', () => {
    const t = typeShape('ts/datasets/binned.ts', 'BinnedManifest');
    const mutations: [string, (s: Schema) => void, RegExp][] = [
      [
        'rename',
        (s) => ((s.properties as Schema).nbins = (s.properties as Schema).nBins),
        /\$\.nbins: in the schema, not in TypeScript/,
      ],
      [
        'retype',
        (s) => ((s.properties as Schema).minutes = { type: 'string' }),
        /\$\.minutes: TypeScript number, schema string/,
      ],
      [
        'optional',
        (s) => (s.required = (s.required as string[]).filter((k) => k !== 'nodeIds')),
        /\$\.nodeIds: required in TypeScript, optional/,
      ],
      ['remove', (s) => delete (s.properties as Schema).unseen, /\$\.unseen: in TypeScript, not in the schema/],
      [
        'enum',
        (s) =>
          ((s.properties as Schema).featureGroups = { type: 'array', items: { enum: ['volume', 'protocol', 'port'] } }),
        /\$\.featureGroups\[\]: TypeScript .*"flag".*, schema/,
      ],
      [
        'nested',
        (s) =>
          (((s.definitions as Schema).windowFile as Schema).properties = {
            file: { type: 'string' },
            count: { type: 'string' },
          }),
        /\$\.windows\.train\.count: TypeScript number, schema string/,
      ],
    ];
    for (const [name, mutate, expected] of mutations) {
      const s = readSchema('binned-dataset.schema.json');
      mutate(s);
      const found = disagreements(t, schemaShape(s, s));
      expect(found.join('\n'), name).to.match(expected);
    }
  });
});
