// Contracts written once across the languages: the tables that TypeScript and the Fairseq plugin both
// read from schemas/, checked from both sides.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ARCHS, ARCH_SIZES, parseArchitectures } from '../ts/catalogue/architectures.js';
import { FEATURES, FEATURE_SETS, parseFeatureSets, selectFeatureColumns } from '../ts/catalogue/features.js';
import { packageRoot, schemaPath } from '../ts/common/paths.js';

const root = packageRoot();
const python = join(root, '.venv', 'bin', 'python');

/** Runs a snippet with the venv's Python; loads fairseq_plugins/contracts.py by path (without fairseq). */
function pyJson(code: string): unknown {
  const prelude = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location("contracts", ${JSON.stringify(join(root, 'fairseq_plugins', 'contracts.py'))})`,
    'contracts = importlib.util.module_from_spec(spec); spec.loader.exec_module(contracts)',
  ].join('\n');
  return JSON.parse(
    execFileSync(python, ['-c', `${prelude}\n${code}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

describe('contracts: architectures.json', () => {
  const file = JSON.parse(readFileSync(schemaPath('architectures.json'), 'utf8')) as Record<string, unknown>;

  it('gives TypeScript the sizes the file holds, in its order', () => {
    const names = Object.keys(file).filter((k) => !k.startsWith('$'));
    expect([...ARCHS]).to.deep.equal(names);
    for (const a of ARCHS) expect(ARCH_SIZES[a], a).to.deep.equal(file[a]);
    expect(ARCH_SIZES.netflowgen_4_4_256_1024).to.deep.equal({ layers: 4, heads: 4, width: 256, ffn: 1024 });
  });

  it('gives the Fairseq plugin the same table', () => {
    const py = pyJson('print(json.dumps(contracts.architectures()))') as Record<string, number[]>;
    expect(Object.keys(py)).to.deep.equal([...ARCHS]);
    for (const a of ARCHS) {
      const { layers, heads, width, ffn } = ARCH_SIZES[a];
      expect(py[a], a).to.deep.equal([layers, heads, width, ffn]);
    }
  });

  // The experiment schema still spells the names out as an enum (its own file); it must not drift.
  it('is the list of archs the experiment schema accepts', () => {
    const schema = JSON.parse(readFileSync(schemaPath('experiment.schema.json'), 'utf8')) as {
      definitions: { arch: { enum: string[] } };
    };
    expect([...schema.definitions.arch.enum].sort()).to.deep.equal([...ARCHS].sort());
  });

  it('refuses a malformed table, naming the entry', () => {
    const bad = (o: unknown) => () => parseArchitectures(JSON.stringify(o), 'a.json');
    expect(bad({ x: { layers: 2, heads: 2, width: 32 } })).to.throw(/a\.json: x\.ffn: expected a positive integer/);
    expect(bad({ x: { layers: 2, heads: 3, width: 32, ffn: 64 } })).to.throw(/x: width 32 is not divisible by heads 3/);
    expect(bad({ x: { layers: 2, heads: 2, width: 32, ffn: 64, depth: 1 } })).to.throw(/x: unknown key depth/);
    expect(bad({ x: { layers: 2.5, heads: 2, width: 32, ffn: 64 } })).to.throw(/x\.layers/);
    expect(
      parseArchitectures(JSON.stringify({ $comment: 'c', y: { layers: 1, heads: 1, width: 1, ffn: 1 } })),
    ).to.deep.equal({
      y: { layers: 1, heads: 1, width: 1, ffn: 1 },
    });
  });
});

describe('contracts: feature-sets.json', () => {
  it("makes light the paper's 6 volume features (Table 9), as the catalogue groups them", () => {
    expect([...FEATURE_SETS.light]).to.deep.equal(FEATURES.filter((f) => f.group === 'volume').map((f) => f.name));
    expect(FEATURE_SETS.light).to.have.length(6);
    expect(FEATURE_SETS.full).to.have.length(86);
  });

  it('selects the same dataset columns in TypeScript and in the Fairseq plugin', function () {
    this.timeout(300_000); // imports fairseq: a safety net, not a bound
    // a dataset whose columns are not in catalogue order, with an extra feature
    const columns = ['out.byt', 'in.udp.pkt', 'in.pkt', 'in.byt', 'out.flag2.flow', 'in.flow', 'out.pkt', 'out.flow'];
    const code = [
      `sys.path.insert(0, ${JSON.stringify(root)})`,
      'from fairseq_plugins.dataset import FEATURE_SETS, select_features',
      `cols = ${JSON.stringify(columns)}`,
      'print(json.dumps({"sets": list(FEATURE_SETS), "sel": {s: select_features(cols, s).tolist() for s in FEATURE_SETS}, "named": {k: list(v) for k, v in contracts.feature_sets().items()}}))',
    ].join('\n');
    const py = pyJson(code) as { sets: string[]; sel: Record<string, number[]>; named: Record<string, string[]> };
    expect(py.sets).to.deep.equal(Object.keys(FEATURE_SETS));
    for (const s of py.sets) expect(selectFeatureColumns(columns, s), s).to.deep.equal(py.sel[s]);
    expect(py.sel.light).to.deep.equal([0, 2, 3, 5, 6, 7]);
    for (const [k, v] of Object.entries(py.named)) expect(v, k).to.deep.equal([...FEATURE_SETS[k]]);
  });

  it('refuses sets that name unknown features, repeat one, or are out of order', () => {
    const bad = (o: unknown) => () => parseFeatureSets(JSON.stringify(o), 'f.json');
    expect(bad({ x: { features: ['in.pkt', 'in.bites'] } })).to.throw(/f\.json: x: unknown feature 'in\.bites'/);
    expect(bad({ x: { features: ['in.byt', 'in.pkt'] } })).to.throw(/catalogue order/);
    expect(bad({ x: { features: [] } })).to.throw(/non-empty/);
    expect(bad({ full: { features: ['in.pkt'] } })).to.throw(/'full' is every feature/);
    expect(() => selectFeatureColumns(['in.pkt'], 'light')).to.throw(/light needs in\.byt/);
    expect(() => selectFeatureColumns(['in.pkt'], 'heavy')).to.throw(/unknown feature set 'heavy'/);
  });
});
