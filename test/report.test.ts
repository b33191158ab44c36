// The report: hand-made stage outputs with known numbers -> report.json, report.md, report.html;
// every number read through its pointer, the paper's beside it, the plots drawn by Vega as SVG, and
// the page opened in headless Chromium (Debian's /usr/bin/chromium) to check that every table and
// plot renders. Seconds.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { curvesSpec, svgOf, violinSpec, uniqueIds } from '../ts/report/charts.js';
import { getPointer } from '../ts/report/collect.js';
import { pointerOf } from '../ts/report/source.js';
import { trainedKeys, resultNumbers } from '../ts/report/results.js';
import { TABLE_KINDS, TABLES } from '../ts/report/tables/index.js';
import { packageRoot } from '../ts/common/paths.js';
import type { UnseenReport } from '../ts/datasets/binned.js';
import type { EarlyDetectManifest } from '../ts/earlydetect/build.js';
import type { GenerationEvaluation } from '../ts/generate/evaluate.js';
import type { EvaluationFile } from '../ts/report/tables/detection.js';
import type { Table4 } from '../ts/train/evaluate.js';
import type { RunResult } from '../ts/train/run.js';
import { curvePoints } from '../ts/report/curves.js';
import { formatValue, type ReportData } from '../ts/report/model.js';
import type { ReportPlan } from '../ts/report/plan.js';
import { blockMarkdown } from '../ts/report/render.js';
import { writeReport } from '../ts/report/write.js';
import { CHROMIUM, dumpDom, renderCheck } from './report-chromium.js';
import { tempDir } from './helpers/tmp.js';

/** A stage file read here, as its writer's type (not through the report). */
const json2 = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

const write = (dir: string, file: string, data: unknown) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), typeof data === 'string' ? data : JSON.stringify(data));
};

const runLog = (valid: number[]) =>
  [
    { event: 'start' },
    { event: 'train_inner', epoch: 1, update: 0.5, loss: 2.0 },
    { event: 'valid', epoch: 1, valid_loss: valid[0] },
    { event: 'train_inner', epoch: 2, update: 1.5, loss: 1.0 },
    { event: 'valid', epoch: 2, valid_loss: valid[1] },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n') + '\n';

const bounds = (eff: number) =>
  [0.8, 0.9, 0.99].map((bound) => ({
    bound,
    budget: 0.1,
    selectedOn: 'test',
    tau: 0.5,
    effectiveness: eff,
    overhead: 0.02,
    fpr: 0.1,
    fnr: 0.25,
    f1: 0.8,
    confusion: { tp: 3, fp: 1, tn: 3, fn: 1 },
  }));

function evaluation(eff: number, featureSet = 'full', nFeatures = 86) {
  return {
    evaluation: {
      trainExamples: 10,
      featureSet,
      nFeatures,
      examples: { total: 8, attacks: 4, normal: 4, customers: 2 },
      bounds: bounds(eff),
      unseen: [
        { split: 'valid', tau: 0.5, examples: 4, confusion: { tp: 0, fn: 0, fp: 1, tn: 3 }, byMappedNode: [] },
        { split: 'test', tau: 0.5, examples: 4, confusion: { tp: 0, fn: 0, fp: 0, tn: 4 }, byMappedNode: [] },
      ],
    },
    figure: {
      byBound: [0.8, 0.9, 0.99].map((bound) => ({ bound, effectiveness: [1, eff, 0, eff], mitigationTime: [0, 3, 1] })),
    },
  };
}

const genMetrics = (jsd: number, equal: number) => ({
  jsd,
  jsdByGroup: { volume: 4 * jsd, protocol: jsd, port: jsd / 2, flag: jsd / 4 },
  jsdByFeature: [jsd],
  acfMse: jsd / 10,
  acfMseByGroup: {},
  acf1440: null,
  corrError: 2 * jsd,
  corrErrorByGroupPair: {},
  equalShare: equal,
  equalShareByGroup: {},
  nodes: 2,
  minutes: 8,
});

/** A generation.json of evaluate-generation (ts/generate/evaluate.ts) with known numbers. */
function generationFile() {
  const row = (label: string, kind: string, metrics: unknown, extra: object = {}) => ({
    label,
    kind,
    source: 'x',
    available: metrics !== null,
    metrics,
    ...extra,
  });
  return {
    kind: 'netflowgen.generation-evaluation',
    schemaVersion: 1,
    dataset: 'bin',
    span: {
      split: 'test',
      from: 100,
      to: 108,
      minutes: 8,
      halfMinutes: 4,
      startMinute: 0,
      firstMinute: '2021-09-01T00:00:00Z',
    },
    nodes: [
      { row: 0, address: '10.0.0.1' },
      { row: 1, address: '10.0.0.2' },
    ],
    features: ['in.byt'],
    featureGroups: ['volume'],
    nBins: 10,
    sampling: { temperature: 1, topK: 0, seed: 1, cache: true },
    lags: { short: [1], daily: 1440, dailyUsed: false },
    floorFactor: 1.5,
    rows: [
      row('NetFlowGen (main)', 'model', genMetrics(0.04, 0.8), { nodeMinutesPerSecond: 1234.4 }),
      row('Bigram', 'baseline', genMetrics(0.05, 0.75)),
      row('Seasonal (previous day)', 'baseline', genMetrics(0.01, 0.79)),
      row('Seasonal (previous week)', 'baseline', null, {
        note: 'the dataset has 100 minutes before the span, less than a week',
      }),
      row('Real vs real (floor)', 'floor', genMetrics(0.01, 0.78)),
    ],
    verdicts: [
      {
        model: 'NetFlowGen (main)',
        beatsBaselines: { jsd: false, acfMse: false, acf1440: null, corrError: false, equalShare: true },
        beatsAllBaselines: false,
        byBaseline: {
          Bigram: { jsd: true, acfMse: true, acf1440: null, corrError: true, equalShare: true },
          'Seasonal (previous day)': { jsd: false, acfMse: false, acf1440: null, corrError: false, equalShare: true },
        },
        jsdToFloor: 4,
        jsdWithinFloorFactor: false,
      },
    ],
    series: [
      {
        row: 0,
        node: '10.0.0.1',
        feature: 'in.byt',
        startMinute: 100,
        firstMinute: '2021-09-01T01:40:00Z',
        minutes: 4,
        real: { bins: [0, 1, 2, 3], values: null },
        generated: {
          'NetFlowGen (main)': { bins: [0, 1, 1, 3], values: null },
          Bigram: { bins: [1, 1, 1, 1], values: null },
        },
      },
    ],
  };
}

/** Stage folders with known numbers, and the plan that reads them. */
function fixture(root: string): { plan: ReportPlan; dirs: Record<string, string> } {
  const d = (n: string) => join(root, n);
  write(d('synth'), 'synth.json', {
    preset: 'tiny',
    config: { seed: 7, nodes: 4, customers: 2, minutes: 2880, attacks: 3, sampling: 1 },
    records: { total: 1234 },
    alerts: { total: 4 },
  });
  const col = (c: number, n: number) => ({
    customers: c,
    nodes: n,
    windows: { train: 8 * n, valid: 2 * n, test: 2 * n },
  });
  write(d('bin'), 'manifest.json', {
    table1: {
      windowLength: 64,
      minutes: { train: 512, valid: 128, test: 128 },
      windowsPerNode: { train: 8, valid: 2, test: 2 },
      raw: col(2, 4),
      filtered: col(2, 3),
    },
    filters: { dropped: { inactive: 1 } },
  });
  write(d('bin'), 'unseen.json', { table7: [{ row: 2, address: '10.0.0.3', attacks: 5, mappedUnseen: 1 }] });
  const t2 = (n: number) => ({
    nodes: n,
    examples: 2 * n,
    attacks: n,
    byType: { UDP: n - 1, DNS: 1 },
    unseenExamples: 0,
  });
  write(d('detect'), 'manifest.json', {
    selectedAttackTypes: ['UDP', 'DNS'],
    table2: { train: t2(3), valid: t2(2), test: t2(2) },
    windowLength: 64,
    detectLength: 30,
    alerts: [1, 2, 3],
    alertsRead: 4,
    dropped: { false_positive: 1 },
    onsetError: null,
  });
  write(d('evalpre'), 'table4.json', {
    rows: [
      { model: 'NetFlowGen (pre-trained, main)', split: 'valid', loss: 0.25, ppl: 1.2840254, acc: 0.9 },
      { model: 'Bigram', split: 'valid', loss: 0.3, ppl: 1.3498588, acc: 0.875 },
    ],
  });
  for (const [n, loss, epochs] of [
    ['sizeA', 0.25, 2],
    ['sizeB', 0.31, 2],
    ['sizeB2', 0.35, 4], // point b's second pre-training seed
  ] as const) {
    write(d(n), 'result.json', {
      learning_rate: n === 'sizeA' ? 0.003 : 0.001,
      dropout: 0.1,
      best: { loss, acc: 0.9, ppl: Math.exp(loss) },
      epochs,
      params: n === 'sizeA' ? { total: 1_900_000 } : null,
      fairseqParams: 25_212,
    });
    write(d(n), 'run.jsonl', runLog([loss + 0.1, loss]));
  }
  const models = [
    ['NetFlowGen', 'NetFlowGen', 0.5],
    ['TF', 'Transformer', 0.25],
    ['TF_MoreData', 'Transformer', 0.75],
  ] as const;
  for (const [name, , eff] of models) {
    write(d(`ev-${name}`), 'evaluation.json', evaluation(eff));
    write(d(`ft-${name}`), 'run.jsonl', runLog([0.7, 0.6]));
  }
  write(d('ev-Light'), 'evaluation.json', evaluation(0.125, 'light', 6));
  write(d('gen'), 'generation.json', generationFile());
  const planned = models.map(([name, group]) => ({ name, group, evaluation: `ev-${name}`, run: `ft-${name}` }));
  const plan: ReportPlan = {
    preset: { name: 'fixture', description: 'hand-made outputs' },
    data: { source: 'synth', bin: 'bin', detect: 'detect' },
    tables: [
      { id: 'table1', kind: 'table1', caption: 'Table 1. Data.' },
      { id: 'table2', kind: 'table2', caption: 'Table 2. EarlyDetect.' },
      { id: 'table7', kind: 'table7', caption: 'Table 7. Unseen.' },
      { id: 'table4', kind: 'table4', caption: 'Table 4. Pre-training.', evaluation: 'evalpre', splits: ['valid'] },
      {
        id: 'table10',
        kind: 'table10',
        caption: 'Table 10. Sizes.',
        points: [
          {
            label: 'a',
            run: 'sizeA',
            arch: 'netflowgen_4_4_128_512',
            sizes: { layers: 4, heads: 4, width: 128, ffn: 512 },
            learning_rate: 0.003,
            dropout: 0.1,
          },
          {
            label: 'b',
            run: 'sizeB',
            replicates: [
              { seed: 1, run: 'sizeB' },
              { seed: 2, run: 'sizeB2' },
            ],
            arch: 'netflowgen_tiny',
            sizes: { layers: 2, heads: 2, width: 32, ffn: 64 },
            learning_rate: 0.001,
            dropout: 0.1,
          },
        ],
      },
      { id: 'table5', kind: 'table5', caption: 'Table 5. Detection.', models: planned, bound: 0.8, split: 'test' },
      {
        id: 'table6',
        kind: 'table6',
        caption: 'Table 6. Per type.',
        models: planned.slice(0, 2).map((m) => ({ ...m, attackType: 'UDP' })),
        bound: 0.8,
        split: 'test',
        leftOut: ['NTP'],
      },
      {
        id: 'table8',
        kind: 'table8',
        caption: 'Table 8. Unseen nodes.',
        models: planned.slice(0, 1),
        bound: 0.8,
        split: 'test',
      },
      {
        id: 'table9',
        kind: 'table9',
        caption: 'Table 9. Features.',
        models: [planned[0], { name: 'NetFlowGen_Light', evaluation: 'ev-Light', run: 'ft-NetFlowGen' }],
        bound: 0.8,
        split: 'test',
      },
      {
        id: 'figure5',
        kind: 'figure5',
        caption: 'Figure 5. Violins.',
        models: planned,
        bounds: [0.8, 0.9, 0.99],
        split: 'test',
      },
      { id: 'generation', kind: 'generation', caption: 'Generation. Samples.', generation: 'gen' },
    ],
    curves: [
      {
        title: 'Model sizes',
        runs: [
          { label: 'a', run: 'sizeA' },
          { label: 'b', run: 'sizeB' },
        ],
      },
    ],
  };
  const dirs = Object.fromEntries(
    [
      'synth',
      'bin',
      'detect',
      'evalpre',
      'sizeA',
      'sizeB',
      'sizeB2',
      'ev-Light',
      'gen',
      ...models.flatMap(([n]) => [`ev-${n}`, `ft-${n}`]),
    ].map((n) => [n, d(n)]),
  );
  return { plan, dirs };
}

describe('report: tables, figures and the page', function () {
  this.timeout(120_000);
  const tmp = tempDir('netflowgen-report-');
  after(() => tmp.cleanup());
  let data: ReportData;
  let md: string;
  let html: string;
  const stages = join(tmp.dir, 'stages');
  const out = join(stages, 'report');

  before(async () => {
    const { plan, dirs } = fixture(stages);
    data = await writeReport(plan, dirs, out);
    md = readFileSync(join(out, 'report.md'), 'utf8');
    html = readFileSync(join(out, 'report.html'), 'utf8');
  });

  const table = (id: string) => [...data.dataStatistics, ...data.tables].find((t) => t.id === id)!;

  it('every number of ours is the value at its pointer in its file (times its scale)', () => {
    let n = 0;
    for (const t of [...data.dataStatistics, ...data.tables, ...data.figures.map((f) => ({ blocks: [f.summary] }))])
      for (const b of t.blocks)
        for (const r of b.rows)
          for (const c of r.cells) {
            if (!c.ours.src) continue;
            const raw = getPointer(JSON.parse(readFileSync(join(stages, c.ours.src.file), 'utf8')), c.ours.src.pointer);
            expect(c.ours.v, `${c.ours.src.file} ${c.ours.src.pointer}`).to.equal(
              typeof raw === 'number' && c.ours.src.scale ? raw * c.ours.src.scale : raw,
            );
            n++;
          }
    expect(n).to.be.greaterThan(80);
  });

  it("the numbers equal values recomputed from the stage files (read here, not through the report's pointers)", () => {
    const json = <T>(dir: string, f: string) => json2<T>(join(stages, dir, f));
    type Ev = EvaluationFile;
    const rowOf = (t: string, label: string, b = 0) => table(t).blocks[b].rows.find((r) => r.label[0] === label)!;
    // Table 5: per model column, each metric at the 80% bound of its own evaluation.json (percent where the paper prints percent).
    const names = ['NetFlowGen', 'TF', 'TF_MoreData'];
    names.forEach((name, i) => {
      const at80 = json<Ev>(`ev-${name}`, 'evaluation.json').evaluation.bounds.find((x) => x.bound === 0.8)!;
      expect(rowOf('table5', 'Effectiveness ↑').cells[i].ours.v).to.equal(100 * at80.effectiveness!);
      expect(rowOf('table5', 'FPR ↓').cells[i].ours.v).to.equal(100 * at80.fpr!);
      expect(rowOf('table5', 'F1 score ↑').cells[i].ours.v).to.equal(at80.f1);
      expect(rowOf('table5', 'Overhead ↓').cells[i].ours.v).to.equal(at80.overhead);
    });
    // Table 4: the valid rows of table4.json, by model.
    const t4 = json<Table4>('evalpre', 'table4.json').rows;
    expect(rowOf('table4', 'Pre-trained').cells.map((c) => c.ours.v)).to.deep.equal([t4[0].loss, t4[0].ppl, t4[0].acc]);
    expect(rowOf('table4', 'Baseline (bigram)').cells[0].ours.v).to.equal(t4.find((r) => r.model === 'Bigram')!.loss);
    // Table 10: the bridge's parameter count where there is one, else fairseq's; the best losses.
    // Point b has two pre-training seeds: its loss and epochs are their mean, ± their sd.
    const [a, b, b2] = ['sizeA', 'sizeB', 'sizeB2'].map((n) => json<RunResult>(n, 'result.json'));
    const t10 = table('table10').blocks[0].rows;
    expect(t10.map((r) => [r.cells[0].ours.v, r.cells[3].ours.v, r.cells[6].ours.v])).to.deep.equal([
      [a.params!.total, a.best!.loss, a.epochs],
      [b.fairseqParams, (b.best!.loss + b2.best!.loss) / 2, (b.epochs + b2.epochs) / 2],
    ]);
    expect(t10[0].cells[3].spread).to.equal(undefined);
    expect(t10[1].cells[3].spread!.sd.v).to.be.closeTo(Math.abs(b.best!.loss - b2.best!.loss) / Math.SQRT2, 1e-12);
    expect(table('table10').note).to.match(/^Each row is one point of the sweep .* each of the 2 pre-training seeds/);
    // Table 2 and Table 7: the manifests' counts.
    const t2 = json<EarlyDetectManifest>('detect', 'manifest.json').table2;
    expect(rowOf('table2', 'Test').cells.map((c) => c.ours.v)).to.deep.equal([
      t2.test.nodes,
      t2.test.examples,
      t2.test.attacks,
      t2.test.byType.UDP,
      t2.test.byType.DNS,
    ]);
    expect(table('table7').blocks[0].rows[1].cells[0].ours.v).to.equal(
      json<UnseenReport>('bin', 'unseen.json').table7[0].mappedUnseen,
    );
    // Table 8: the unseen validation examples' confusion matrix of NetFlowGen.
    const u = json<Ev>('ev-NetFlowGen', 'evaluation.json').evaluation.unseen[0].confusion;
    expect(table('table8').blocks[0].rows[1].cells.map((c) => c.ours.v)).to.deep.equal([u.fp, u.tn, u.fp + u.tn]);
    // Table 9: the number of features of each evaluation.
    expect(rowOf('table9', 'NetFlowGen_Light').cells[0].ours.v).to.equal(
      json<Ev>('ev-Light', 'evaluation.json').evaluation.nFeatures,
    );
  });

  it('generation (beyond the paper): the metrics of generation.json per generator, the verdicts and the plot', () => {
    const g = json2<GenerationEvaluation>(join(stages, 'gen', 'generation.json'));
    const sec = data.generation![0];
    expect(sec.table.blocks[0].rows.map((r) => r.label[0])).to.deep.equal(g.rows.map((r) => r.label));
    sec.table.blocks[0].rows.forEach((r, i) => {
      const m = g.rows[i].metrics;
      expect(r.cells.map((c) => c.ours.v)).to.deep.equal(
        m
          ? [
              m.jsd,
              m.jsdByGroup.volume,
              m.jsdByGroup.protocol,
              m.jsdByGroup.port,
              m.jsdByGroup.flag,
              m.acfMse,
              m.acf1440,
              m.corrError,
              m.equalShare,
            ]
          : Array(9).fill(null),
      );
    });
    expect(sec.table.warnings).to.deep.equal([
      'Seasonal (previous week): the dataset has 100 minutes before the span, less than a week.',
    ]);
    expect(sec.verdicts[0]).to.equal(
      "NetFlowGen (main): not better than Seasonal (previous day) on jsd, acfMse, corrError; mean JSD 4.00 × the floor's (goal ≤ 1.5: not met).",
    );
    expect(sec.note).to.include('NetFlowGen (main) 1,234 node-minutes/s');
    expect(sec.plot[0].lines.map((l) => [l.label, l.bins])).to.deep.equal([
      ['Real', [0, 1, 2, 3]],
      ['NetFlowGen (main)', [0, 1, 1, 3]],
    ]); // the baselines' samples are in the table, not the plot
    expect(md).to.include('## Generation (beyond the paper)');
    expect(md).to.include(
      '| NetFlowGen (main) | 0.0400 | 0.1600 | 0.0400 | 0.0200 | 0.0100 | 0.0040 | - | 0.0800 | 0.8000 |',
    );
    expect(md).to.include('![generation: real against sampled bins');
    expect(existsSync(join(out, 'generation-series.svg'))).to.equal(true);
    expect(html).to.include('<section class="generation" id="generation">');
    // Its numbers go into the results files as trained numbers (compared within tolerances), the data tables' as exact.
    const keys = Object.keys(resultNumbers(data));
    const trained = trainedKeys(data);
    expect(keys.filter((k) => k.startsWith('generation / ')).length).to.equal(5 * 9);
    expect(keys.filter((k) => k.startsWith('generation / ')).every(trained)).to.equal(true);
    expect(keys.filter((k) => /^table[127] /.test(k)).some(trained)).to.equal(false);
    expect(keys.filter((k) => /^table5 /.test(k)).every(trained)).to.equal(true);
  });

  it('the table registry: one module per kind, the same kinds as the table schema; typed accessors give the pointers', () => {
    expect(new Set(TABLE_KINDS).size).to.equal(TABLES.length);
    const schema = json2<{ properties: { kind: { enum: string[] } } }>(
      join(packageRoot(), 'schemas', 'reproduce-table.schema.json'),
    );
    expect([...schema.properties.kind.enum].sort()).to.deep.equal([...TABLE_KINDS].sort());
    for (const m of TABLES) expect(['data', 'results', 'figures', 'generation'], m.kind).to.include(m.section);
    expect(pointerOf<{ a: { b: number[] } }>((d) => d.a.b[2])).to.equal('/a/b/2');
    expect(pointerOf<Record<string, Record<string, number>>>((d) => d['x/y']['m~n'])).to.equal('/x~1y/m~0n');
    expect(getPointer({ 'x/y': { 'm~n': 5 } }, '/x~1y/m~0n')).to.equal(5);
  });

  it("lays the tables out like the paper's, ours beside the paper's published numbers", () => {
    const t1 = table('table1').blocks[0];
    expect(t1.rows.map((r) => r.label[0])).to.deep.equal([
      'Customer',
      'Node (IP)',
      'Training Size',
      'Validation Size',
      'Test Size',
    ]);
    expect(t1.rows[1].cells.map((c) => [c.ours.v, c.paper])).to.deep.equal([
      [4, '6,975'],
      [3, '520'],
    ]);
    expect(t1.rows[4].cells[0].paper).to.equal(undefined); // the paper prints no test size
    const t5 = table('table5').blocks[0];
    expect(t5.head[0].map((h) => [h.text, h.colspan ?? 1])).to.deep.equal([
      ['', 1],
      ['NetFlowGen', 1],
      ['Transformer', 2],
    ]);
    const eff = t5.rows.find((r) => r.label[0] === 'Effectiveness ↑')!;
    expect(eff.cells.map((c) => [c.ours.v, c.paper])).to.deep.equal([
      [50, '100.00'],
      [25, '81.36'],
      [75, '100.0'],
    ]);
    expect(md).to.include('| Effectiveness ↑ | 50.00 / *100.00* | 25.00 / *81.36* | 75.00 / *100.0* |');
    expect(md).to.include('| F1 score ↑ | 0.80 / *0.96* | 0.80 / *0.88* | 0.80 / *0.95* |');
    expect(md).to.include('| Pre-trained | validation | 0.2500 / *0.19* | 1.2840 / *1.20* | 0.9000 / *0.94* |');
    expect(md).to.include('| Node (IP) | 4 / *6,975* | 3 / *520* |');
    expect(md).to.include('| Actual | False | 1 / *2* | 3 / *430* | 4 / *432* |');
    expect(md).to.include('| NetFlowGen_Light | 6 / *6* | 12.50 / *99.96* |');
    expect(md).to.include('| 4-4-128-512 | 1.9M | 0.003 | 0.1 | 0.2500 | 0.9000 | 1.2840 | 2 |');
    expect(md).to.include('| 2-2-32-64 (tiny) | 25K | 0.001 |'); // no bridge count: fairseq's
    expect(md).to.include('Attack types NTP are not in this preset');
  });

  it('states the data plainly and labels the published tables', () => {
    expect(data.dataStatement).to.match(
      /^Our numbers come from synthetic ISP traffic made by `netflowgen synth` \(synth preset tiny, seed 7\): 4 nodes of 2 customers over 2,880 minutes/,
    );
    expect(md).to.include('private NetFlow');
    expect(md).to.include('*published in the paper (NetFlowGen paper');
    expect(data.headline[0]).to.equal(
      "Table 4, validation loss: pre-trained 0.2500 (paper 0.19) against the bigram's 0.3000 (paper 0.21).",
    );
  });

  it('Figure 5: the violins plot the per-example arrays of each model and bound', () => {
    const f = data.figures[0];
    expect(f.effectiveness.map((s) => [s.model, s.bound])).to.have.length(9);
    expect(f.effectiveness[0].values).to.deep.equal([100, 50, 0, 50]);
    expect(f.mitigation[0].values).to.deep.equal([0, 3, 1]);
    expect(f.summary.rows[0].cells.map((c) => formatValue(c.ours))).to.deep.equal([
      '4',
      '50.00',
      '50.00',
      '3',
      '1.00',
      '1.33',
    ]);
    expect(existsSync(join(out, 'figure5-effectiveness.svg'))).to.equal(true);
    expect(md).to.include('![figure5: effectiveness (%) per model and overhead bound](figure5-effectiveness.svg)');
  });

  it('training curves come from run.jsonl', () => {
    expect(data.curves[0].curves[1].points).to.deep.equal([
      { x: 0.5, loss: 2, series: 'train' },
      { x: 1.5, loss: 1, series: 'train' },
      { x: 1, loss: 0.31 + 0.1, series: 'valid' },
      { x: 2, loss: 0.31, series: 'valid' },
    ]);
    // A resumed run repeats an epoch's records: the later ones count.
    expect(
      curvePoints([
        { event: 'valid', epoch: 1, valid_loss: 3 },
        { event: 'valid', epoch: 1, valid_loss: 2 },
        { event: 'train', epoch: 1 },
      ]),
    ).to.deep.equal([{ x: 1, loss: 2, series: 'valid' }]);
  });

  it('the HTML page is self-contained: inline CSS and SVG, no external asset', () => {
    expect(html).to.match(/^<!DOCTYPE html>/);
    expect(html).to.include('<style>');
    expect(html).to.not.match(/<(link|img)\b|\bsrc=|href="https?:/);
    expect((html.match(/<figure class="plot"/g) ?? []).length).to.equal(4);
    expect((html.match(/<svg /g) ?? []).length).to.equal(4);
    // Ids inside the inline SVGs are unique across the page.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('headless Chromium renders every table and plot of the page', function () {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium (apt-get install chromium)`);
    const check = renderCheck(dumpDom(join(out, 'report.html'), join(tmp.dir, 'chromium-profile')));
    expect(check.plots).to.equal(4);
    expect(check.plotsRendered).to.equal(4);
    expect(check.marked.sort()).to.deep.equal([
      'curves-1',
      'figure5-effectiveness',
      'figure5-mitigation',
      'generation-series',
    ]);
    const tables = (html.match(/<table class="report-table/g) ?? []).length;
    expect(check.tables).to.equal(tables);
    expect(check.tablesRendered).to.equal(tables);
  });

  it('charts: degenerate data (all values equal) still draws finite shapes; ids are prefixed', async () => {
    const svg = await svgOf(
      violinSpec([{ model: 'A', bound: 0.8, values: [100, 100, 100], src: { file: 'x', pointer: '/y' } }], {
        title: 'e',
        extent: [0, 100],
        bandwidth: 4,
      }),
      'p',
    );
    expect(svg).to.match(/^<svg /);
    expect(svg).to.not.include('NaN');
    expect(svg).to.match(/<path[^>]+d="M/);
    const c = await svgOf(
      curvesSpec([
        {
          label: 'r',
          file: 'f',
          points: [
            { x: 0.5, loss: 1, series: 'train' },
            { x: 1, loss: 0.8, series: 'valid' },
          ],
        },
      ]),
      'q',
    );
    expect(c).to.not.include('NaN');
    expect(uniqueIds('<g id="a" clip-path="url(#a)"><use href="#a"/></g>', 'z')).to.equal(
      '<g id="z-a" clip-path="url(#z-a)"><use href="#z-a"/></g>',
    );
  });

  it('formats numbers as the paper prints them', () => {
    expect(formatValue({ v: 1_131_612, fmt: 'params' })).to.equal('1.1M');
    expect(formatValue({ v: 13_961_052, fmt: 'params' })).to.equal('14M');
    expect(formatValue({ v: 96720, fmt: 'int' })).to.equal('96,720');
    expect(formatValue({ v: 0.8, fmt: 'bound' })).to.equal('80%');
    expect(formatValue({ v: null, fmt: 'f2' })).to.equal('-');
    expect(
      blockMarkdown({
        head: [
          [{ text: '' }, { text: 'DNS', colspan: 2 }],
          [{ text: '' }, { text: 'A' }, { text: 'B' }],
        ],
        rows: [{ label: ['x'], cells: [{ ours: { v: 1, fmt: 'int' } }, { ours: { v: 2, fmt: 'int' }, paper: '3' }] }],
      }),
    ).to.equal('|  | DNS: A | DNS: B |\n| --- | ---: | ---: |\n| x | 1 | 2 / *3* |\n');
  });
});
