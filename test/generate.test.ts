// netflowgen generate and evaluate-generation (issue 14) on the shared trained fixture (helpers/trained.ts:
// tiny, 3 epochs on the pattern dataset of train-fixture.ts): the model samples series whose store passes `inspect` and `bin` and whose values re-bin to the
// sampled bins; generation.json carries every row, the floor and the verdicts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { evaluateGenerationCommand } from '../ts/cli/evaluate-generation.js';
import { generateCommand } from '../ts/cli/generate.js';
import { inspectCommand } from '../ts/cli/inspect.js';
import { validateWithSchema } from '../ts/common/schema.js';
import { assignBins } from '../ts/discretize/cutoffs.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { GENERATION_EVAL_SCHEMA, type GenerationEvaluation } from '../ts/generate/evaluate.js';
import { GeneratedSeries } from '../ts/generate/generate.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { inProcess } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';
import { patternRun } from './helpers/trained.js';
import { prefetch } from './helpers/prefetch.js';

prefetch('pattern-run'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('generate: netflowgen generate and evaluate-generation on a tiny model', function () {
  this.timeout(300_000); // with the shared fixture's build, when this file runs first
  const tmp = useTempDir('netflowgen-generate-');
  let dataset: string;
  let runDir: string;
  before(async () => {
    ({ dataset, runDir } = await patternRun()); // the shared 3-epoch tiny run on the pattern dataset
  });
  /** `netflowgen generate -m RUN ARGS -o OUT` (ARGS split at spaces), in-process. */
  const generate = (out: string, args: string) =>
    inProcess([generateCommand as never], ['generate', '-m', runDir, ...args.split(' '), '-o', out]);

  it('samples series whose store passes inspect and bin, with values inside the cutoffs of their bins', async () => {
    const out = join(tmp.dir, 'gen');
    const r = await generate(
      out,
      '--from 2021-09-21T04:00:00Z --history-from 2021-09-21T03:00:00Z --minutes 120 --nodes 10.0.0.1 2 --threads 1',
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(
      /^wrote .*gen: 2 nodes x 120 minutes x 6 features from 2021-09-21T04:00:00Z, 31 real minutes of history; [\d,]+ node-minutes\/s \(cached, cpu\); values in /,
    );
    const g = GeneratedSeries.open(out);
    const m = g.manifest;
    expect(m.nodes.map((n) => n.address)).to.deep.equal(['10.0.0.1', '10.0.0.3']);
    expect(m).to.deep.include({ from: 1680, minutes: 120, history: { from: 1649, minutes: 31, cold: false } }); // the context of a 32-minute window
    // the pattern's training values are 0, 300 and 900: cutoffs 300, 900 and 7 absent, so the top bin
    // (anything above 900) holds no training value and its values are drawn above 900 (the fallback)
    expect(m.values).to.include({ source: 'training-values', unrealizable: 0 });

    const store = SeriesStore.open(join(out, 'store'));
    expect(store.manifest).to.include({ minutes: 120, firstMinute: '2021-09-21T04:00:00Z' });
    expect(store.manifest.features).to.deep.equal(m.features);
    const ds = BinnedDataset.open(dataset);
    let fallbacks = 0;
    m.nodes.forEach((n, i) => {
      const values = store.readNode(i);
      const bins = g.readBins(i);
      const cut = ds.readCutoffs(n.row);
      const F = m.features.length;
      for (let f = 0; f < F; f++) {
        const col = Array.from({ length: 120 }, (_, t) => values[t * F + f]);
        const back = assignBins(col, cut.subarray(f * 9, (f + 1) * 9));
        expect([...back], `node ${n.address}, feature ${m.features[f]}`).to.deep.equal(
          Array.from({ length: 120 }, (_, t) => bins[t * F + f]),
        );
        col.forEach((v, t) =>
          bins[t * F + f] === 9 ? expect(v).to.be.above(900) : expect([0, 300, 900]).to.include(v),
        ); // else the node's own training values
        fallbacks += col.filter((v) => v > 900).length;
      }
    });

    expect(fallbacks).to.equal(m.values.fallbacks);

    const ins = await inProcess([inspectCommand as never], ['inspect', join(out, 'store')]);
    expect(ins.code, ins.err).to.equal(0);
    expect(ins.out).to.include('10.0.0.3');
    const rebinned = await buildBinnedDataset({
      store: join(out, 'store'),
      out: join(tmp.dir, 'rebinned'),
      features: 'light',
      windowLength: 16,
      split: '0.5,0.25,0.25',
    });
    expect(rebinned.manifest.nodes).to.have.length(2);

    // cold start, greedy, no store: the options reach the sampler
    const cold = await generate(
      join(tmp.dir, 'cold'),
      '--from 1700 --minutes 10 --nodes 0 --temperature 0 --no-values --no-cache --threads 1',
    );
    expect(cold.code, cold.err).to.equal(0);
    const cm = GeneratedSeries.open(join(tmp.dir, 'cold')).manifest;
    expect(cm.history).to.deep.equal({ from: null, minutes: 0, cold: true });
    expect(cm.sampling).to.include({ temperature: 0, cache: false });
    expect(cm.files.store).to.equal(null);

    const bad = await generate(join(tmp.dir, 'bad'), '--from 1700 --minutes 10 --nodes 10.9.9.9');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/no node '10\.9\.9\.9'/);
  });

  it('evaluates the samples against the baselines and the real-vs-real floor, and writes generation.json', async () => {
    const out = join(tmp.dir, 'evaluation');
    const r = await inProcess(
      [evaluateGenerationCommand as never],
      ['evaluate-generation', runDir, '-o', out, '--threads', '1', '--plot-nodes', '2', '--plot-minutes', '100'],
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/\| Generator +\| Mean JSD/);
    const e = JSON.parse(readFileSync(join(out, 'generation.json'), 'utf8')) as GenerationEvaluation;
    validateWithSchema(GENERATION_EVAL_SCHEMA, e, 'generation.json');
    expect(e.span).to.include({ split: 'test', from: 1600, minutes: 400, halfMinutes: 200 });
    expect(e.rows.map((x) => [x.label, x.kind, x.available])).to.deep.equal([
      ['NetFlowGen (tiny)', 'model', true],
      ['Bigram', 'baseline', true],
      ['Seasonal (previous day)', 'baseline', true],
      ['Seasonal (previous week)', 'baseline', false],
      ['Real vs real (floor)', 'floor', true],
    ]);
    // the pattern repeats every 4 minutes: a day later, and 200 minutes later, everything is equal
    const byLabel = Object.fromEntries(e.rows.map((x) => [x.label, x.metrics]));
    for (const label of ['Seasonal (previous day)', 'Real vs real (floor)'])
      expect(byLabel[label]).to.include({ jsd: 0, acfMse: 0, corrError: 0, equalShare: 1 });
    expect(byLabel['Bigram']?.equalShare).to.be.below(1);
    expect(e.lags).to.deep.include({ dailyUsed: false });
    expect(e.verdicts).to.have.length(1);
    expect(e.verdicts[0].jsdToFloor).to.equal(null); // a floor of 0: no ratio
    expect(e.series).to.have.length(2);
    expect(e.series[0]).to.include({ node: '10.0.0.1', feature: 'in.byt', minutes: 100 });
    expect(Object.keys(e.series[0].generated)).to.deep.equal([
      'NetFlowGen (tiny)',
      'Bigram',
      'Seasonal (previous day)',
    ]);
    expect(e.series[0].generated['NetFlowGen (tiny)'].values).to.have.length(100);
    expect(e.series[0].real.values?.slice(0, 4).sort()).to.deep.equal([0, 0, 300, 900]);
    const md = readFileSync(join(out, 'generation.md'), 'utf8');
    expect(md).to.include('NetFlowGen (tiny): ');
    expect(md).to.include("mean JSD n/a x the floor (the floor's JSD is 0; goal <= 1.5: n/a)"); // not 'not met'
    expect(md).to.not.match(/NaN|null/);

    // a second run reuses the samples of the same request
    const again = await inProcess(
      [evaluateGenerationCommand as never],
      ['evaluate-generation', runDir, '-o', out, '--threads', '1'],
    );
    expect(again.code, again.err).to.equal(0);
    expect(again.err).to.include('reusing the samples');

    // no nodes: an error, not a generation.json of NaN metrics
    const none = await inProcess(
      [evaluateGenerationCommand as never],
      ['evaluate-generation', runDir, '-o', join(tmp.dir, 'no-nodes'), '--max-nodes', '0'],
    );
    expect(none.code).to.equal(1);
    expect(none.err).to.match(/no nodes to evaluate \(--max-nodes 0\)/);
    expect(existsSync(join(tmp.dir, 'no-nodes', 'generation.json'))).to.equal(false);
  });
});
