import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SpecError, mergeSpecs, parseSetArgs, specDiff, specHash } from '../ts/config/compose.js';
import {
  ARCHS,
  composeSpec,
  expandSweep,
  loadSpec,
  pointLabel,
  shortNumber,
  type ExperimentSpec,
} from '../ts/train/spec.js';
import { JsonSyntaxError, didYouMean, editDistance, jsonLines } from '../ts/config/suggest.js';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const experiments = join(root, 'experiments');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(SpecError);
    return (e as SpecError).problems;
  }
  expect.fail('expected a SpecError');
}

describe('train: suggestions and JSON line numbers', () => {
  it('edit distance counts insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('learning_rat', 'learning_rate')).to.equal(1);
    expect(editDistance('dropuot', 'dropout')).to.equal(1); // a swap
    expect(editDistance('abc', 'abc')).to.equal(0);
    expect(editDistance('', 'abc')).to.equal(3);
    expect(editDistance('kitten', 'sitting')).to.equal(3);
  });

  it('suggests the closest key only when it is close', () => {
    const keys = ['learning_rate', 'dropout', 'batch_size', 'max_epoch', 'seed'];
    expect(didYouMean('learning_rat', keys)).to.equal('learning_rate');
    expect(didYouMean('Dropout', keys)).to.equal('dropout');
    expect(didYouMean('batchsize', keys)).to.equal('batch_size');
    expect(didYouMean('learning', keys)).to.equal('learning_rate'); // a truncation
    expect(didYouMean('colour', keys)).to.equal(undefined);
  });

  it('maps JSON pointers to the line of their key', () => {
    const text = '{\n  "a": 1,\n  "model": {\n    "layers": 2,\n    "x": [1,\n      2]\n  },\n  "s": "a\\"b"\n}\n';
    const lines = jsonLines(text);
    expect(lines.get('')).to.equal(1);
    expect(lines.get('/a')).to.equal(2);
    expect(lines.get('/model')).to.equal(3);
    expect(lines.get('/model/layers')).to.equal(4);
    expect(lines.get('/model/x/1')).to.equal(6);
    expect(lines.get('/s')).to.equal(8);
  });

  it('says on which line a JSON text stops being JSON', () => {
    const lineOfError = (text: string) => {
      try {
        jsonLines(text);
      } catch (e) {
        return [(e as JsonSyntaxError).line, (e as Error).message];
      }
      return undefined;
    };
    expect(lineOfError('{\n  "a": 1\n  "b": 2\n}')).to.deep.equal([3, `expected ',' or '}', found '"' at line 3`]);
    expect(lineOfError('{\n  "a": [1,\n  ]\n}')).to.deep.equal([3, `unexpected ']' at line 3`]);
    expect(lineOfError('{\n  "a": tru\n}')).to.deep.equal([2, `unexpected 't' at line 2`]);
    expect(lineOfError('{"a": 1}\n}')).to.deep.equal([2, `unexpected '}' after the end of the document at line 2`]);
    expect(lineOfError('{"a": -1.5e3, "b": [true, false, null, "x\\"y"]}')).to.equal(undefined);
  });
});

describe('train: experiment specs', function () {
  this.timeout(20_000);
  // made in before(), not when mocha loads the file: a filtered or aborted run leaves no folder behind
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir('netflowgen-spec-');
  });
  after(() => tmp?.cleanup());
  const write = (name: string, data: unknown) => {
    const path = join(tmp.dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data, null, 2) + '\n');
    return path;
  };

  it('rejects a misspelt key, naming the file, the line and the key, with a hint', () => {
    const f = write(
      'typo.json',
      '{\n  "dataset": "d",\n  "arch": "netflowgen_tiny",\n  "learning_rat": 0.001,\n  "dropout": 0.1,\n  "batch_size": 4,\n  "max_epoch": 1\n}\n',
    );
    const problems = problemsOf(() => loadSpec(f));
    expect(problems).to.deep.equal([`${f}:4: unknown key 'learning_rat' (did you mean 'learning_rate'?)`]);
  });

  it('reports every problem of a file at once: nested keys, enum values, types', () => {
    const f = write('bad.json', { arch: 'netflowgen_tinny', model: { layrs: 3 }, dropout: '0.2', seed: -1 });
    const problems = problemsOf(() => composeSpec(f));
    expect(problems).to.have.length(4);
    expect(problems[0]).to.match(
      /bad\.json:\d+: arch is "netflowgen_tinny", not one of .*\(did you mean 'netflowgen_tiny'\?\)/,
    );
    expect(problems.join('\n')).to.include(`unknown key 'layrs' in model (did you mean 'layers'?)`);
    expect(problems.join('\n')).to.match(/dropout must be number \(got "0\.2"\)/);
    expect(problems.join('\n')).to.match(/seed must be >= 0 \(got -1\)/);
  });

  it('names the file of the chain that holds the error', () => {
    write('chain/base.json', { dataset: 'd', dropot: 0.1 });
    const f = write('chain/top.json', { extends: 'base.json', arch: 'netflowgen_tiny' });
    const problems = problemsOf(() => loadSpec(f));
    expect(problems).to.deep.equal([
      `${join(tmp.dir, 'chain/base.json')}:3: unknown key 'dropot' (did you mean 'dropout'?)`,
    ]);
  });

  it('suggests spec keys for the names of fairseq and the paper', () => {
    const problems = problemsOf(() =>
      composeSpec(join(experiments, 'pretrain/tiny.json'), [parseSetArgs(['lr=0.1', 'layers=3'])]),
    );
    expect(problems).to.deep.equal([
      `--set: unknown key 'lr' (did you mean 'learning_rate'?)`,
      `--set: unknown key 'layers' (did you mean 'model.layers'?)`,
    ]);
  });

  it('composes extends in order, objects key by key, arrays and scalars replaced, own keys last', () => {
    write('c/base.json', {
      dataset: 'data/ds',
      learning_rate: 0.1,
      dropout: 0.3,
      batch_size: 8,
      max_epoch: 10,
      model: { layers: 6, width: 64 },
      adam_betas: [0.8, 0.9],
    });
    write('c/size.json', { arch: 'netflowgen_4_4_128_512', model: { width: 128 }, learning_rate: 0.2 });
    const f = write('c/run.json', { extends: ['base.json', 'size.json'], dropout: 0.1, adam_betas: [0.9, 0.99] });
    const { spec, composed } = loadSpec(f, [], '/cwd');
    expect(composed.sources).to.deep.equal([join(tmp.dir, 'c/base.json'), join(tmp.dir, 'c/size.json'), f]);
    expect(spec.name).to.equal('run');
    expect(spec.dataset).to.equal('/cwd/data/ds');
    expect(spec.arch).to.equal('netflowgen_4_4_128_512');
    expect(spec.learning_rate).to.equal(0.2); // size.json after base.json
    expect(spec.dropout).to.equal(0.1); // the file's own key last
    expect(spec.model).to.deep.equal({ layers: 6, width: 128 }); // merged key by key
    expect(spec.adam_betas).to.deep.equal([0.9, 0.99]); // replaced
    // defaults of the schema
    expect(spec).to.include({
      feature_set: 'full',
      lr_scheduler: 'fixed',
      patience: -1,
      seed: 1,
      device: 'cpu',
      precision: 'fp32',
      world_size: 1,
      max_update: 0,
    });
  });

  it('applies override layers after the files, checked like files', () => {
    write('o/base.json', {
      dataset: 'd',
      arch: 'netflowgen_tiny',
      learning_rate: 0.1,
      dropout: 0.3,
      batch_size: 8,
      max_epoch: 10,
    });
    const f = write('o/run.json', { extends: 'base.json' });
    const { spec, composed } = loadSpec(f, [
      parseSetArgs(['model.layers=3', 'learning_rate=1e-4', 'feature_set=light']),
      { source: 'command line', values: { device: 'cuda', precision: 'bf16' } },
    ]);
    expect(spec.model).to.deep.equal({ layers: 3 });
    expect(spec.learning_rate).to.equal(1e-4);
    expect(spec.feature_set).to.equal('light');
    expect(spec.precision).to.equal('bf16');
    expect(composed.sources.slice(-2)).to.deep.equal(['--set', 'command line']);
  });

  it('says which keys are missing and which files were read', () => {
    write('m/base.json', { arch: 'netflowgen_tiny', learning_rate: 0.1 });
    const f = write('m/run.json', { extends: 'base.json', dropout: 0.1 });
    const problems = problemsOf(() => loadSpec(f));
    expect(problems).to.have.length(3);
    expect(problems[0]).to.equal(
      `${f}: missing key 'dataset': set it in the spec or in a file it extends (base.json, run.json)`,
    );
    expect(problems.join('\n')).to.include(`missing key 'batch_size'`).and.include(`missing key 'max_epoch'`);
  });

  it('refuses loops, missing files and inconsistent settings', () => {
    write('loop/a.json', { extends: 'b.json' });
    write('loop/b.json', { extends: 'a.json' });
    expect(problemsOf(() => composeSpec(join(tmp.dir, 'loop/a.json')))[0]).to.match(
      /loops back to itself: a\.json -> b\.json -> a\.json/,
    );
    const f = write('missing.json', { extends: 'nowhere.json' });
    expect(problemsOf(() => composeSpec(f))[0]).to.match(
      /nowhere\.json: cannot read the spec file \(named in 'extends' of .*missing\.json\): ENOENT/,
    );
    const bad = write('json.json', '{\n  "dataset": "d",\n  "arch": \n}\n');
    expect(problemsOf(() => composeSpec(bad))[0]).to.match(/json\.json:4: not valid JSON/);
    const cpu16 = write('cpu16.json', {
      dataset: 'd',
      arch: 'netflowgen_tiny',
      learning_rate: 0.1,
      dropout: 0.1,
      batch_size: 2,
      max_epoch: 1,
      precision: 'fp16',
    });
    expect(problemsOf(() => loadSpec(cpu16))).to.deep.equal([
      `${cpu16}: precision fp16 needs device cuda (fairseq has no fp16 on CPU)`,
    ]);
  });

  it('hashes what decides the result: key order and description do not count', () => {
    const a = {
      name: 'x',
      description: 'one',
      dataset: '/d',
      arch: 'netflowgen_tiny',
      learning_rate: 0.1,
      dropout: 0.1,
    } as unknown as ExperimentSpec;
    const b = {
      dropout: 0.1,
      learning_rate: 0.1,
      arch: 'netflowgen_tiny',
      dataset: '/d',
      name: 'x',
      description: 'two',
    } as unknown as ExperimentSpec;
    expect(specHash(a))
      .to.equal(specHash(b))
      .and.match(/^[0-9a-f]{16}$/);
    expect(specHash({ ...a, learning_rate: 0.2 })).to.not.equal(specHash(a));
    expect(specDiff(a as never, { ...b, learning_rate: 0.2, seed: 3 } as never)).to.deep.equal([
      'learning_rate',
      'seed',
    ]);
  });

  it('merges like the docs say', () => {
    expect(mergeSpecs({ a: 1, m: { x: 1, y: 2 }, l: [1, 2] }, { m: { y: 3 }, l: [3] })).to.deep.equal({
      a: 1,
      m: { x: 1, y: 3 },
      l: [3],
    });
  });

  it('parses --set values as JSON when they parse', () => {
    expect(parseSetArgs(['a=1', 'b=x', 'c=[1,2]', 'd.e=true', 'f=1e-4']).values).to.deep.equal({
      a: 1,
      b: 'x',
      c: [1, 2],
      d: { e: true },
      f: 1e-4,
    });
    expect(() => parseSetArgs(['novalue'])).to.throw(/expected key=value/);
  });

  it('expands the Table 10 sweep into 16 named points, first axis slowest', () => {
    const { name, points } = expandSweep(composeSpec(join(experiments, 'sweeps/table10.json')), '/cwd');
    expect(name).to.equal('table10');
    expect(points).to.have.length(16);
    expect(points.slice(0, 4).map((p) => p.label)).to.deep.equal([
      '4-4-128-512_lr5e-4_do0.3',
      '4-4-128-512_lr5e-4_do0.1',
      '4-4-128-512_lr1e-4_do0.3',
      '4-4-128-512_lr1e-4_do0.1',
    ]);
    expect(points[15].label).to.equal('4-4-512-2048_lr1e-4_do0.1');
    expect(points[15].spec).to.include({
      name: '4-4-512-2048_lr1e-4_do0.1',
      arch: 'netflowgen_4_4_512_2048',
      learning_rate: 1e-4,
      dropout: 0.1,
      max_epoch: 100,
      patience: 10,
    });
    expect(points[15].spec).to.not.have.property('grid');
    expect(new Set(points.map((p) => specHash(p.spec))).size).to.equal(16);
  });

  it('labels sweep points compactly', () => {
    expect(shortNumber(0.0005)).to.equal('5e-4');
    expect(shortNumber(0.00025)).to.equal('2.5e-4');
    expect(shortNumber(0.3)).to.equal('0.3');
    expect(pointLabel({ arch: 'netflowgen_tiny', learning_rate: 0.003, batch_size: 8, feature_set: 'light' })).to.equal(
      'tiny_lr3e-3_bs8_light',
    );
  });

  it('rejects a misspelt grid axis and tells sweep and pretrain specs apart', () => {
    const f = write('sw.json', { extends: join(experiments, 'pretrain/tiny.json'), grid: { learning_rte: [0.1] } });
    expect(problemsOf(() => composeSpec(f))[0]).to.match(
      /sw\.json:\d+: unknown key 'learning_rte' in grid \(did you mean 'learning_rate'\?\)/,
    );
    expect(problemsOf(() => loadSpec(join(experiments, 'sweeps/tiny.json')))[0]).to.match(
      /this is a sweep spec .* netflowgen sweep/,
    );
    expect(problemsOf(() => expandSweep(composeSpec(join(experiments, 'pretrain/tiny.json'))))[0]).to.match(
      /not a sweep spec/,
    );
  });

  it('ships specs that all resolve: the four Table 10 sizes, the tiny demo, the sweeps', () => {
    const pre = readdirSync(join(experiments, 'pretrain')).filter((n) => n.endsWith('.json'));
    const archs = new Set<string>();
    for (const n of pre) {
      if (n === 'base.json') continue; // a part, not a run: it has no arch
      archs.add(loadSpec(join(experiments, 'pretrain', n)).spec.arch);
    }
    expect([...archs].sort()).to.deep.equal([...ARCHS].sort());
    const tiny = expandSweep(composeSpec(join(experiments, 'sweeps/tiny.json')));
    expect(tiny.points.map((p) => [p.label, p.spec.max_epoch])).to.deep.equal([
      ['tiny_lr3e-3', 1],
      ['tiny_lr1e-3', 1],
    ]);
  });
});
