/**
 * Table 4: next-step prediction of the pre-trained model against the bigram (netflowgen
 * evaluate-pretrain's table4.json), and, with a pre-training summary, the loss over the pre-training
 * seeds (summary.json of evaluate/summary.ts).
 */
import { join } from 'node:path';
import { SUMMARY_FILE, type PretrainSummary } from '../../evaluate/summary.js';
import type { Table4 } from '../../train/evaluate.js';
import type { TableBlock } from '../model.js';
import { cell, cellText, derived } from './cells.js';
import type { TableModule } from './types.js';

/** The file evaluatePretrain (ts/train/evaluate.ts) writes into the run folder. */
export const TABLE4_FILE = 'table4.json';

/** The paper's Table 4 (SPEC §8): next-step prediction on the validation data. */
export const PAPER_TABLE4: Record<'pretrained' | 'baseline', { loss: string; ppl: string; acc: string }> = {
  pretrained: { loss: '0.19', ppl: '1.20', acc: '0.94' },
  baseline: { loss: '0.21', ppl: '1.23', acc: '0.93' },
};

export const table4: TableModule<'table4'> = {
  kind: 'table4',
  section: 'results',
  chain: 'pretrain-evaluation',
  trained: true,
  paper: PAPER_TABLE4,
  collect({ r, dirs, need }, t) {
    const f = join(need(t.evaluation, t.id), TABLE4_FILE);
    const v = (pick: (d: Table4) => unknown) => r.value<Table4>(f, pick, 'f4');
    const shown = r
      .json<Table4>(f)
      .rows.map((row, i) => ({ row, i }))
      .filter(({ row }) => (t.splits ?? ['valid', 'test']).includes(row.split as 'valid' | 'test'));
    const rows = shown.map(({ row, i }) => {
      const bigram = row.model.startsWith('Bigram');
      const paper = row.split === 'valid' ? PAPER_TABLE4[bigram ? 'baseline' : 'pretrained'] : undefined;
      const loss = cell(
        v((d) => d.rows[i].loss),
        paper?.loss,
      );
      return {
        bigram,
        split: row.split,
        loss,
        row: {
          label: [bigram ? 'Baseline (bigram)' : 'Pre-trained', row.split === 'valid' ? 'validation' : row.split],
          cells: [
            loss,
            cell(
              v((d) => d.rows[i].ppl),
              paper?.ppl,
            ),
            cell(
              v((d) => d.rows[i].acc),
              paper?.acc,
            ),
          ],
        },
      };
    });
    const blocks: TableBlock[] = [
      {
        head: [[{ text: '' }, { text: 'Split' }, { text: 'Loss ↓' }, { text: 'Perplexity ↓' }, { text: 'Accuracy ↑' }]],
        rows: rows.map((x) => x.row),
      },
    ];
    let seedsNote = '';
    if (t.summary && dirs[t.summary]) {
      const sf = join(dirs[t.summary], SUMMARY_FILE);
      const s = r.json<PretrainSummary>(sf);
      blocks.push({
        title: `loss over the pre-training seeds (${s.split === 'valid' ? 'validation' : s.split} windows; mean ± sd over seeds)`,
        head: [[{ text: '' }, { text: 'Seeds' }, { text: 'Loss ↓' }]],
        rows: s.models.map((m, i) => ({
          label: [m.model],
          cells: [
            cell(derived(m.seeds.length || null, 'int')),
            {
              ...cell(r.value<PretrainSummary>(sf, (d) => d.models[i].loss.mean, 'f4')),
              spread: {
                sd: r.value<PretrainSummary>(sf, (d) => d.models[i].loss.sd, 'f4'),
                lo: derived(null, 'f4'),
                hi: derived(null, 'f4'),
              },
            },
          ],
        })),
      });
      seedsNote = ` The first block is the first pre-training seed's; the second has every seed, and the claims section the paired difference with its interval over windows and seeds (${r.rel(sf)}).`;
    }
    // Headline: the validation losses of the pre-trained model and the bigram.
    const val = rows.filter((x) => x.split === 'valid');
    const pre = val.find((x) => !x.bigram);
    const big = val.find((x) => x.bigram);
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Mean negative log-likelihood (nats) per predicted (step, feature) of the next minute's bins, its exponential, and the share of arg-max bins that are right; the pre-trained model's best checkpoint against the bigram of the training split, on the same windows. The paper reports the validation data. From ${r.rel(f)} (netflowgen evaluate-pretrain).${seedsNote}`,
        blocks,
        warnings: [],
      },
      headline:
        val.length === 2 && pre && big
          ? [`Table 4, validation loss: pre-trained ${cellText(pre.loss)} against the bigram's ${cellText(big.loss)}.`]
          : [],
    };
  },
};
