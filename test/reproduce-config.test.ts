// Presets and table specs of netflowgen reproduce: every shipped preset composes and plans (without
// running anything), errors name the file and line, overrides and --only behave. No training: fast.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildChain } from '../ts/reproduce/chain.js';
import { loadPreset, loadTable, presetFile, selectTables, tableModels } from '../ts/reproduce/config.js';
import { planStages } from '../ts/reproduce/graph.js';
import { INGEST_FILE } from '../ts/reproduce/source.js';
import { INGEST_RECORD } from '../ts/report/collect.js';
import { tempDir } from './helpers/tmp.js';

function plan(name: string, set: string[] = [], only?: string[]) {
  const preset = loadPreset(name, set);
  const { stages, report } = buildChain({
    preset,
    tables: selectTables(preset, only),
    allTables: selectTables(preset),
  });
  return { preset, report, plan: planStages(stages, '/out/stages') };
}

describe('reproduce: presets and table specs', () => {
  const tmp = tempDir('netflowgen-presets-');
  after(() => tmp.cleanup());

  for (const name of ['micro', 'tiny', 'small', 'paper'])
    it(`preset ${name} composes, and its chain plans every table and figure`, () => {
      const { preset, plan: p, report } = plan(name);
      expect(preset.name).to.equal(name);
      expect(report.tables.map((t) => t.id)).to.deep.equal([
        'table1',
        'table2',
        'table7',
        'table4',
        'table10',
        'table5',
        'table6',
        'table8',
        'table9',
        'figure5',
        // beyond the paper: sampling from the pre-trained model, on the tiny preset (not micro: it stays fast)
        ...(name === 'tiny' ? ['generation'] : []),
      ]);
      const kinds = new Set(p.map((s) => s.kind));
      expect(kinds.has('evaluate-generation')).to.equal(name === 'tiny');
      for (const k of [
        'synth',
        'serialize',
        'bin',
        'detect-dataset',
        'baseline',
        'pretrain',
        'evaluate-pretrain',
        'finetune',
        'evaluate-detect',
        'report',
      ])
        expect(kinds.has(k), k).to.equal(true);
      expect(p[p.length - 1].id).to.equal('report');
      // The model the tables fine-tune on is the one Table 4 evaluates: one pre-training, shared.
      const safe = p.filter((s) => s.kind === 'finetune' && s.inputs.pretrained === 'pretrain:main');
      expect(safe.length).to.be.greaterThan(0);
    });

  it('the paper preset trains on CUDA in bf16 with the paper settings; the main model is also a Table 10 point', () => {
    const { plan: p } = plan('paper');
    const main = p.find((s) => s.id === 'pretrain:main')!;
    expect(main.config).to.include({
      arch: 'netflowgen_4_4_128_512',
      learning_rate: 5e-4,
      dropout: 0.3,
      max_epoch: 100,
      device: 'cuda',
      precision: 'bf16',
    });
    // Table 10's 16 points, each with the preset's 2 pre-training seeds
    const sizes = p.filter((s) => s.id.startsWith('size:'));
    expect(sizes.length).to.equal(32);
    expect(sizes.filter((s) => s.sameAs?.startsWith('pretrain:main')).map((s) => [s.id, s.sameAs])).to.deep.equal([
      ['size:4-4-128-512_lr5e-4_do0.3', 'pretrain:main'],
      ['size:4-4-128-512_lr5e-4_do0.3@s2', 'pretrain:main@s2'],
    ]);
    for (const s of p.filter((x) => x.kind === 'finetune'))
      expect(s.config).to.include({ device: 'cuda', precision: 'bf16' });
  });

  it('cpu-hour: every Table 10 size is pre-trained once per pre-training seed, sharing the main model where it is one', () => {
    const { plan: p, report } = plan('cpu-hour');
    const t10 = report.tables.find((t) => t.kind === 'table10')!;
    expect(t10.points!.length).to.equal(2);
    for (const point of t10.points!) {
      expect(point.replicates!.map((x) => x.seed)).to.deep.equal([1, 2]);
      expect(point.replicates![0].run).to.equal(point.run);
      const [a, b] = point.replicates!.map((x) => {
        const stage = p.find((s) => s.id === x.run)!;
        return { id: stage.id, config: stage.config as Record<string, unknown> };
      });
      expect([a.id, b.id]).to.deep.equal([`size:${point.label}`, `size:${point.label}@s2`]);
      expect([a.config.seed, b.config.seed]).to.deep.equal([1, 2]);
      expect({ ...a.config, seed: 2 }).to.deep.equal(b.config); // the seed is all that differs
    }
    // the tiny model of the sweep is the main model of each seed: trained once per seed
    const shared = p.filter((s) => s.id.startsWith('size:') && s.sameAs).map((s) => [s.id, s.sameAs]);
    expect(shared).to.deep.equal([
      [`size:${t10.points![0].label}`, 'pretrain:main'],
      [`size:${t10.points![0].label}@s2`, 'pretrain:main@s2'],
    ]);
  });

  it('a size sweep that sets its own seed keeps it: one run per point, no seed of the preset added', () => {
    for (const set of [['sizes.set.seed=5'], ['sizes.set.grid.seed=[3,4]']]) {
      const { plan: p, report } = plan('cpu-hour', set);
      const points = report.tables.find((t) => t.kind === 'table10')!.points!;
      const seeds = points.map((x) => x.replicates!.map((r) => r.seed));
      expect(seeds, set[0]).to.deep.equal(set[0].includes('grid') ? [[3], [4], [3], [4]] : [[5], [5]]);
      for (const x of points)
        expect((p.find((s) => s.id === x.run)!.config as { seed: number }).seed).to.equal(x.replicates![0].seed);
    }
  });

  it("TF has the pre-trained model's sizes; per-type runs set attack_types; _MoreData trains on the train split", () => {
    const { plan: p } = plan('tiny');
    const tf = p.find((s) => s.id === 'finetune:tf')!;
    expect((tf.config as { model: unknown }).model).to.deep.equal({ layers: 2, heads: 2, width: 32, ffn: 64 });
    expect(p.find((s) => s.id === 'finetune:tf:DNS')!.config).to.deep.include({ attack_types: ['DNS'] });
    expect(p.find((s) => s.id === 'finetune:ms-lstm-moredata')!.config).to.include({ train_split: 'train' });
    expect(p.find((s) => s.id === 'finetune:netflowgen-light@light')!.inputs.pretrained).to.equal('pretrain:light');
    expect(p.find((s) => s.id === 'pretrain:light')!.config).to.include({ feature_set: 'light' });
  });

  it('micro: one attack type, so the Table 6 runs are the Table 5 runs', () => {
    const { plan: p, report } = plan('micro');
    const t6 = report.tables.find((t) => t.id === 'table6')!;
    const t5 = report.tables.find((t) => t.id === 'table5')!;
    expect(t6.models!.map((m) => m.run)).to.deep.equal(t5.models!.map((m) => m.run));
    expect(t6.models!.map((m) => m.attackType)).to.deep.equal(['UDP', 'UDP', 'UDP', 'UDP', 'UDP']);
    // every model of the table has the preset's two fine-tuning seeds (the detectors: one, untrained)
    expect(t5.models!.map((m) => m.replicates!.length)).to.deep.equal([2, 2, 2, 1, 1]);
    expect(t5.summary).to.equal('summary:table5');
    expect(t6.leftOut).to.deep.equal(['DNS', 'NTP']);
    // NetFlowGen, TF, MS-LSTM, NetFlowGen_Light, each with 2 seeds; the detectors run once for all tables
    expect(p.filter((s) => s.kind === 'finetune').length).to.equal(4 * 2);
    expect(p.filter((s) => s.kind === 'simple-detect').length).to.equal(2);
  });

  it('--only keeps the stages the chosen tables need', () => {
    const { plan: p } = plan('tiny', [], ['table4']);
    expect(p.map((s) => s.id)).to.deep.equal([
      'source',
      'serialize',
      'bin',
      'baseline',
      'pretrain:main',
      'evaluate-pretrain:main',
      'summary:table4',
      'report',
    ]);
    expect(() => plan('tiny', [], ['table11'])).to.throw(
      /--only: no table or figure 'table11' in preset tiny \(it has table1, table2/,
    );
  });

  it('generation: the main pre-trained model sampled on the test split by one stage; its size is a table setting', () => {
    const { plan: p, report } = plan('tiny', [], ['generation']);
    expect(p.map((s) => s.id)).to.deep.equal([
      'source',
      'serialize',
      'bin',
      'pretrain:main',
      'evaluate-generation:main',
      'report',
    ]);
    const stage = p.find((s) => s.id === 'evaluate-generation:main')!;
    expect(stage.inputs).to.deep.equal({ run: 'pretrain:main', dataset: 'bin' });
    expect(stage.config).to.deep.equal({ split: 'test', maxNodes: 64, plot: { nodes: 3, minutes: 240 }, seed: 1 });
    expect(report.tables[0]).to.include({ kind: 'generation', generation: 'evaluate-generation:main' });
    // A preset sizes it through tableOverrides (cpu-hour could sample fewer nodes or minutes).
    const small = plan(
      'tiny',
      ['tableOverrides.generation.maxNodes=8', 'tableOverrides.generation.minutes=1440'],
      ['generation'],
    ).plan.find((s) => s.id === 'evaluate-generation:main')!;
    expect(small.config).to.deep.include({ maxNodes: 8, minutes: 1440 });
    expect(small.hash).to.not.equal(stage.hash);
  });

  it('the report names the ingest record as the source stage writes it', () => {
    expect(INGEST_RECORD).to.equal(INGEST_FILE);
  });

  it('--set changes the preset; a change reaches the hashes downstream of it only', () => {
    const a = plan('tiny', [], ['table4']).plan;
    const b = plan('tiny', ['pretrain.set.max_epoch=7'], ['table4']).plan;
    const h = (p: typeof a, id: string) => p.find((s) => s.id === id)!.hash;
    expect(h(b, 'bin')).to.equal(h(a, 'bin'));
    expect(h(b, 'baseline')).to.equal(h(a, 'baseline'));
    expect(h(b, 'pretrain:main')).to.not.equal(h(a, 'pretrain:main'));
    expect(h(b, 'evaluate-pretrain:main')).to.not.equal(h(a, 'evaluate-pretrain:main'));
    const c = plan('tiny', ['data.synth.seed=2'], ['table4']).plan;
    expect(c.every((s) => s.hash !== h(a, s.id))).to.equal(true);
  });

  it('errors name the file and line, with a hint', () => {
    const f = join(tmp.dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ extends: presetFile('tiny'), data: { bin: { windw: 64 } } }, null, 2));
    expect(() => loadPreset(f)).to.throw(/bad\.json:5: unknown key 'windw' in data\.bin \(did you mean 'window'\?\)/);
    expect(() => loadPreset('tiny', ['pretrain.set.max_epoch=3', 'tables=3'])).to.throw(/--set.*tables/);
    const o = join(tmp.dir, 'over.json');
    writeFileSync(o, JSON.stringify({ extends: presetFile('micro'), tableOverrides: { table99: { show: ['TF'] } } }));
    expect(() => selectTables(loadPreset(o))).to.throw(/tableOverrides names table99, not a table of the preset/);
    const s = join(tmp.dir, 'show.json');
    writeFileSync(s, JSON.stringify({ extends: presetFile('micro'), tableOverrides: { table5: { show: ['GPT'] } } }));
    expect(() => tableModels(selectTables(loadPreset(s), ['table5'])[0])).to.throw(
      /'show' names GPT, not among the models \(NetFlowGen, TF/,
    );
  });

  it("table specs compose: Table 5 takes the shared models of detection.json and picks the paper's five and the two simple detectors", () => {
    const t5 = loadTable(join(presetFile('tiny'), '../../tables/table5.json'));
    expect(t5).to.include({ id: 'table5', kind: 'table5', bound: 0.8, split: 'test' });
    expect(t5.sources.map((x) => x.split('/').pop())).to.deep.equal(['detection.json', 'table5.json']);
    const models = tableModels(t5);
    expect(models.map((m) => m.name)).to.deep.equal([
      'NetFlowGen',
      'TF',
      'TF_MoreData',
      'MS-LSTM',
      'MS-LSTM_MoreData',
      'Static threshold',
      'EWMA+CUSUM',
    ]);
    expect(models[0].finetune).to.match(/experiments\/finetune\/netflowgen\.json$/);
  });
});
