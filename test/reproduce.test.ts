// netflowgen reproduce on the micro preset, end to end: synth, serialize, bin, detect-dataset,
// baseline, pretrain (main, light), evaluate-pretrain, finetune (NetFlowGen, TF, MS-LSTM,
// NetFlowGen_Light), evaluate-detect, report. Checks that every table and figure appears, that
// every number equals the run output it comes from, that the page renders in headless Chromium, and
// that a rerun (or a change of config) redoes only what changed. About a minute on 2 idle cores,
// almost all of it the start-up of 16 Python processes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { getPointer } from '../ts/report/collect.js';
import { packageRoot } from '../ts/common/paths.js';
import { compareResults, presetResults, trainedKeys, type PresetResults } from '../ts/report/results.js';
import type { ReportData } from '../ts/report/model.js';
import { STAGE_FILE } from '../ts/reproduce/graph.js';
import { createChainView } from '../ts/reproduce/progress.js';
import { rerenderReport, reproduce, type ReproduceResult } from '../ts/reproduce/reproduce.js';
import { CHROMIUM, dumpDom, renderCheck } from './report-chromium.js';
import { tempDir } from './helpers/tmp.js';

const ALL = ['table1', 'table2', 'table7', 'table4', 'table10', 'table5', 'table6', 'table8', 'table9', 'figure5'];

describe('reproduce: the micro preset end to end', function () {
  this.timeout(900_000);
  const tmp = tempDir('netflowgen-reproduce-');
  after(() => tmp.cleanup());
  const out = join(tmp.dir, 'out');
  const log: string[] = [];
  const quiet = () => createChainView({ tty: false, write: (s) => log.push(s) });
  let first: ReproduceResult;
  let data: ReportData;
  const read = (f: string) => JSON.parse(readFileSync(join(out, 'stages', f), 'utf8')) as unknown;

  before(async () => {
    first = await reproduce({ preset: 'micro', out, view: quiet() });
    data = first.report!.data;
  });

  it('runs every stage once and makes every table and figure, in Markdown, HTML and JSON', () => {
    expect(first.outcomes.filter((o) => !o.cached).length).to.equal(first.plan.filter((s) => !s.sameAs).length);
    expect(
      [...data.dataStatistics, ...data.tables]
        .map((t) => t.id)
        .concat(data.figures.map((f) => f.id))
        .sort(),
    ).to.deep.equal([...ALL].sort());
    const md = readFileSync(first.report!.md, 'utf8');
    const html = readFileSync(first.report!.html, 'utf8');
    for (const t of [...data.dataStatistics, ...data.tables, ...data.figures]) {
      expect(md, t.id).to.include(`### ${t.caption}`.replace(/^### (Figure)/, '## $1'));
      expect(html, t.id).to.include(`id="${t.id}"`);
    }
    for (const f of [
      'figure5-effectiveness.svg',
      'figure5-mitigation.svg',
      'curves-1.svg',
      'operating-points.svg',
      'report.json',
    ])
      expect(existsSync(join(first.report!.dir, f)), f).to.equal(true);
    expect(log.join('')).to.match(/^reproduce: 37 stages, 0 already done\n/);
    // micro stays fast: no generation section (tiny and cpu-hour have one).
    expect(data.generation).to.equal(undefined);
  });

  it('every number equals the run output it comes from', () => {
    let n = 0;
    for (const t of [...data.dataStatistics, ...data.tables])
      for (const b of t.blocks)
        for (const r of b.rows)
          for (const c of r.cells) {
            if (b.published || !c.ours.src) continue;
            const raw = getPointer(read(c.ours.src.file), c.ours.src.pointer);
            expect(c.ours.v, `${t.id}: ${c.ours.src.file} ${c.ours.src.pointer}`).to.equal(
              typeof raw === 'number' && c.ours.src.scale ? raw * c.ours.src.scale : raw,
            );
            n++;
          }
    expect(n).to.be.greaterThan(80);
    // Spot checks against the stages' own files, found independently of the report.
    const stage = (id: string) => first.plan.find((s) => s.id === id)!.dir;
    const t4 = JSON.parse(readFileSync(join(stage('evaluate-pretrain:main'), 'table4.json'), 'utf8')) as {
      rows: { loss: number }[];
    };
    expect(data.tables.find((t) => t.id === 'table4')!.blocks[0].rows[0].cells[0].ours.v).to.equal(t4.rows[0].loss);
    // Table 5's TF cells are means over the two fine-tuning seeds of each seed's own evaluation, with
    // tau chosen on the calibration (train) split, never on test.
    const at80 = ['evaluate-detect:tf', 'evaluate-detect:tf#s2'].map((id) => {
      const ev = JSON.parse(readFileSync(join(stage(id), 'evaluation.json'), 'utf8')) as {
        evaluation: {
          selectSplit: string;
          bounds: { bound: number; f1: number; effectiveness: number; selectedOn: string }[];
        };
      };
      expect(ev.evaluation.selectSplit).to.equal('train');
      return ev.evaluation.bounds.find((b) => b.bound === 0.8)!;
    });
    const t5 = data.tables.find((t) => t.id === 'table5')!.blocks[0];
    const col = t5.head[1].findIndex((h) => h.text === 'TF') - 1;
    const f1 = t5.rows.find((r) => r.label[0].startsWith('F1'))!.cells[col];
    expect(f1.ours.v).to.be.closeTo((at80[0].f1 + at80[1].f1) / 2, 1e-12);
    expect(f1.spread!.sd.v).to.be.closeTo(Math.abs(at80[0].f1 - at80[1].f1) / Math.SQRT2, 1e-12);
    expect(f1.spread!.lo.v as number).to.be.at.most(f1.ours.v as number);
    expect(f1.spread!.hi.v as number).to.be.at.least(f1.ours.v as number);
    // (per-example outcomes are stored to 6 decimals: percent agrees to 1e-3)
    expect(t5.rows.find((r) => r.label[0].startsWith('Effectiveness'))!.cells[col].ours.v).to.be.closeTo(
      (100 * (at80[0].effectiveness + at80[1].effectiveness)) / 2,
      1e-3,
    );
    expect(t5.head[1].map((h) => h.text)).to.include.members(['Static threshold', 'EWMA+CUSUM']);
    // The claims the micro preset's tables can measure, each read from its summary, with a verdict.
    expect(data.claims.map((c) => c.id)).to.deep.equal([
      'pretrained-vs-bigram',
      'netflowgen-vs-tf',
      'netflowgen-vs-ms-lstm',
      'netflowgen-vs-light',
    ]);
    for (const c of data.claims) {
      expect(['holds', 'does not hold', 'inconclusive']).to.include(c.verdict);
      const raw = getPointer(read(c.diff.src!.file), c.diff.src!.pointer);
      expect(c.diff.v).to.equal(raw);
    }
    expect(data.operatingPoints!.table.blocks[0].rows.length).to.equal(5 * 3);
    // Table 4's claim: the per-window losses average to the table's own losses (python/score.py and the bigram).
    const t4claim = data.claims.find((c) => c.id === 'pretrained-vs-bigram')!;
    expect(t4claim.a.v as number).to.be.closeTo(t4.rows[0].loss, 1e-6);
    expect(t4claim.b.v as number).to.be.closeTo((t4.rows as { loss: number }[])[1].loss, 1e-9);
    const bin = JSON.parse(readFileSync(join(stage('bin'), 'manifest.json'), 'utf8')) as {
      table1: { raw: { nodes: number } };
    };
    expect(data.dataStatistics[0].blocks[0].rows[1].cells[0].ours.v).to.equal(bin.table1.raw.nodes);
  });

  it("Figure 5's violins hold each model's per-example arrays; the curves hold run.jsonl's validation losses", () => {
    const f = data.figures[0];
    expect(f.effectiveness.length).to.equal(5 * 3);
    for (const s of [...f.effectiveness, ...f.mitigation]) {
      const raw = getPointer(read(s.src.file), s.src.pointer) as number[];
      expect(s.values).to.deep.equal(raw.map((x) => x * (s.src.scale ?? 1)));
    }
    for (const g of data.curves)
      for (const c of g.curves) {
        const valid = readFileSync(join(out, 'stages', c.file), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; valid_loss?: number })
          .filter((r) => r.event === 'valid')
          .map((r) => r.valid_loss);
        expect(
          c.points.filter((p) => p.series === 'valid').map((p) => p.loss),
          c.file,
        ).to.deep.equal(valid);
        expect(valid.length).to.be.greaterThan(0);
      }
  });

  it('gives the numbers committed in experiments/results/micro.json, within the stated tolerances', () => {
    // Regenerate with: netflowgen reproduce --preset micro --save-results (the preset runs 2 stages side by side, 1 thread each) (see experiments/results/README.md)
    const committed = JSON.parse(
      readFileSync(join(packageRoot(), 'experiments', 'results', 'micro.json'), 'utf8'),
    ) as PresetResults;
    const fresh = presetResults(data, { commit: 'test', date: '', threads: 1, jobs: 2, seconds: 0 });
    expect(Object.keys(fresh.numbers).length).to.be.greaterThan(150);
    // The data tables' counts must be equal; the trained numbers within the tolerances (the registry says which is which).
    expect(compareResults(fresh, committed, trainedKeys(data))).to.deep.equal([]);
    expect(fresh.claims.map((c) => [c.id, c.verdict])).to.deep.equal(committed.claims.map((c) => [c.id, c.verdict]));
  });

  it('the page renders every table and plot in headless Chromium', function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium`);
    const check = renderCheck(dumpDom(first.report!.html, join(tmp.dir, 'chromium-profile')));
    expect(check.plots).to.be.greaterThan(2);
    expect(check.plotsRendered).to.equal(check.plots);
    expect(check.tablesRendered).to.equal(check.tables);
    expect(check.tables).to.be.greaterThan(10);
  });

  it('a rerun finds every stage done and reports the same numbers', async () => {
    // No clock: a rerun that ran nothing announces every stage done, starts none, and leaves every
    // stage.json (written last by a stage that runs) as it was.
    const stamps = () =>
      first.plan.filter((s) => !s.sameAs).map((s) => [s.id, statSync(join(s.dir, STAGE_FILE)).mtimeMs] as const);
    const before = stamps();
    const lines: string[] = [];
    const again = await reproduce({
      preset: 'micro',
      out,
      view: createChainView({ tty: false, write: (s) => lines.push(s) }),
    });
    expect(again.outcomes.every((o) => o.cached)).to.equal(true);
    expect(lines.join('')).to.match(/^reproduce: (\d+) stages, \1 already done\n/);
    expect(lines.filter((l) => / \.\.\.\n$/.test(l))).to.deep.equal([]); // no '[i/n] stage ...' start line
    expect(stamps()).to.deep.equal(before);
    const strip = (d: ReportData) => JSON.stringify({ ...d, createdAt: '' });
    expect(strip(again.report!.data)).to.equal(strip(data));
  });

  it('a config change redoes only the stages it reaches', async () => {
    const changed = await reproduce({
      preset: 'micro',
      out,
      view: quiet(),
      only: ['table2'],
      set: ['data.detect.seed=2'],
    });
    const ran = changed.outcomes.filter((o) => !o.cached).map((o) => o.id);
    expect(ran).to.deep.equal(['detect', 'report']);
    expect(changed.report!.data.dataStatistics.map((t) => t.id)).to.deep.equal(['table2']);
  });

  it('netflowgen report re-renders the report from the stages', async () => {
    await reproduce({ preset: 'micro', out, view: quiet() });
    const { data: again } = await rerenderReport(out);
    expect(again.tables.map((t) => t.id)).to.deep.equal(data.tables.map((t) => t.id));
    expect(JSON.stringify(again.tables)).to.equal(JSON.stringify(data.tables));
  });
});
