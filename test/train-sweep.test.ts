import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { composeSpec } from '../ts/train/spec.js';
import { runSweep } from '../ts/train/sweep.js';
import type { Table10Row } from '../ts/train/tables.js';
import { useTempDir } from './helpers/tmp.js';
import { makePatternDataset } from './train-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TINY_SWEEP = join(root, 'experiments/sweeps/tiny.json');

describe('train: netflowgen sweep of the tiny grid', function () {
  this.timeout(300_000); // a safety net, not a bound: two fairseq-train runs take 30 s alone and several times that on busy cores
  const tmp = useTempDir('netflowgen-sweep-');
  let out: string, dataset: string;
  before(() => {
    out = join(tmp.dir, 'runs');
  });
  const quiet = { log: () => {}, threads: 1 };

  it('trains every point once, one run folder each, and writes Table 10', async () => {
    dataset = await makePatternDataset(tmp.dir);
    const composed = composeSpec(TINY_SWEEP, [{ source: 'test', values: { dataset } }]);
    const r = await runSweep(composed, { out, ...quiet });
    expect(r).to.include({ trained: 2, skipped: 0, dir: join(out, 'tiny-sweep') });
    expect(
      r.rows.map((x) => [x.run, x.config, x.learning_rate, x.dropout, x.params, x.epochs, x.status]),
    ).to.deep.equal([
      ['tiny_lr3e-3', '2-2-32-64', 3e-3, 0.1, 25_212, 1, 'done'],
      ['tiny_lr1e-3', '2-2-32-64', 1e-3, 0.1, 25_212, 1, 'done'],
    ]);
    for (const row of r.rows) {
      expect(row.best_valid_loss).to.be.a('number');
      expect(row.best_valid_ppl).to.be.closeTo(Math.exp(row.best_valid_loss!), 1e-3);
    }
    // a larger learning rate learns more in one epoch on this data
    expect(r.rows[0].best_valid_loss).to.be.below(r.rows[1].best_valid_loss!);
    const json = JSON.parse(readFileSync(r.files.json, 'utf8')) as { rows: Table10Row[] };
    expect(json.rows).to.deep.equal(r.rows);
    expect(readFileSync(r.files.md, 'utf8')).to.match(/# Table 10: tiny-sweep\n\n\| Config +\| +LR \|/);
    expect(existsSync(join(out, 'tiny-sweep', 'tiny_lr3e-3', 'checkpoint_best.pt'))).to.equal(true);
    expect(JSON.parse(readFileSync(join(out, 'tiny-sweep', 'sweep.json'), 'utf8')).points).to.have.length(2);
  });

  it('skips finished points when run again, and tabulates points not run yet', async () => {
    const again = await runSweep(composeSpec(TINY_SWEEP, [{ source: 'test', values: { dataset } }]), { out, ...quiet });
    expect(again).to.include({ trained: 0, skipped: 2 });
    // the same sweep with a third learning rate, tabulated only: its row says 'not run', parameters from the bridge
    const wider = join(tmp.dir, 'wider.json');
    writeFileSync(wider, JSON.stringify({ extends: TINY_SWEEP, grid: { learning_rate: [3e-3, 1e-3, 1e-4] } }));
    const table = await runSweep(composeSpec(wider, [{ source: 'test', values: { dataset, name: 'tiny-sweep' } }]), {
      out,
      tableOnly: true,
      ...quiet,
    });
    expect(table.rows.map((x) => [x.run, x.status, x.params])).to.deep.equal([
      ['tiny_lr3e-3', 'done', 25_212],
      ['tiny_lr1e-3', 'done', 25_212],
      ['tiny_lr1e-4', 'not run', 25_212],
    ]);
    expect(table.rows[2].best_valid_loss).to.equal(null);
  });
});
