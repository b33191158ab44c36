/**
 * Table 10: the model sizes of the pre-training sweep, each point's best validation loss, accuracy
 * and perplexity (the runs' result.json, RunResult of ts/train/run.ts), beside the paper's table.
 */
import { join } from 'node:path';
import { RESULT_FILE } from '../../train/folder.js';
import type { RunResult } from '../../train/run.js';
import { formatValue, text } from '../model.js';
import { cell } from './cells.js';
import { PAPER_SOURCE, type TableModule } from './types.js';

/** The paper's Table 10 (SPEC §8): model sizes; the paper leaves the config cell empty under a repeated size. */
export const PAPER_TABLE10: {
  config: string;
  params: string;
  lr: string;
  dropout: string;
  loss: string;
  acc: string;
  ppl: string;
  f1: string;
}[] = [
  // prettier-ignore
  { config: '4-4-128-512', params: '1.9M', lr: '0.0005', dropout: '0.3', loss: '0.186', acc: '0.935', ppl: '1.204', f1: '0.983' },
  // prettier-ignore
  { config: '4-4-128-512', params: '1.9M', lr: '0.0001', dropout: '0.1', loss: '0.184', acc: '0.936', ppl: '1.202', f1: '0.983' },
  // prettier-ignore
  { config: '4-4-256-1024', params: '5.4M', lr: '0.0005', dropout: '0.3', loss: '0.186', acc: '0.935', ppl: '1.204', f1: '0.983' },
  // prettier-ignore
  { config: '4-4-256-1024', params: '5.4M', lr: '0.0005', dropout: '0.1', loss: '0.182', acc: '0.936', ppl: '1.199', f1: '0.983' },
  // prettier-ignore
  { config: '4-4-512-1024', params: '12M', lr: '0.0005', dropout: '0.3', loss: '0.181', acc: '0.936', ppl: '1.199', f1: '0.983' },
  // prettier-ignore
  { config: '4-4-512-2048', params: '25M', lr: '0.0005', dropout: '0.3', loss: '0.182', acc: '0.936', ppl: '1.200', f1: '0.983' },
];

const HEAD = ['Model Config.', '# of Params.', 'LR', 'Dropout', 'Best Val Loss', 'Best Val Acc.', 'Best Val Ppl.'];

export const table10: TableModule<'table10'> = {
  kind: 'table10',
  section: 'results',
  chain: 'sweep',
  trained: true,
  paper: PAPER_TABLE10,
  collect({ r, dirs }, t) {
    const warnings: string[] = [];
    const points = (t.points ?? []).map((p) => {
      const f = join(dirs[p.run], RESULT_FILE);
      const v = (pick: (d: RunResult) => unknown, fmt: 'int' | 'f4' | 'text' | 'params') =>
        r.value<RunResult>(f, pick, fmt);
      const res = r.json<RunResult>(f);
      const params =
        res.params?.total !== undefined && res.params?.total !== null
          ? v((d) => d.params!.total, 'params')
          : v((d) => d.fairseqParams, 'params');
      const s = p.sizes;
      const loss = cell(v((d) => d.best!.loss, 'f4'));
      return {
        loss,
        row: {
          label: [`${s.layers}-${s.heads}-${s.width}-${s.ffn}${p.arch === 'netflowgen_tiny' ? ' (tiny)' : ''}`],
          cells: [
            cell(params),
            cell(v((d) => d.learning_rate, 'text')),
            cell(v((d) => d.dropout, 'text')),
            loss,
            cell(v((d) => d.best!.acc, 'f4')),
            cell(v((d) => d.best!.ppl, 'f4')),
            cell(v((d) => d.epochs, 'int')),
          ],
        },
      };
    });
    if (!points.length) warnings.push('The sweep has no points.');
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Each row is one pre-training run of the sweep (the preset's sizes.sweep): best validation loss, accuracy and perplexity, epochs trained. The paper's last column (Best Val F1) is a fine-tuning result per size; we fine-tune the main model only. From the runs' result.json (netflowgen pretrain).`,
        blocks: [
          {
            title: 'ours',
            head: [[...HEAD, 'Epochs'].map((text) => ({ text }))],
            rows: points.map((p) => p.row),
          },
          {
            title: `published in the paper (${PAPER_SOURCE})`,
            published: true,
            head: [[...HEAD, 'Best Val F1'].map((text) => ({ text }))],
            rows: PAPER_TABLE10.map((p) => ({
              label: [p.config],
              cells: [p.params, p.lr, p.dropout, p.loss, p.acc, p.ppl, p.f1].map(text),
            })),
          },
        ],
        warnings,
      },
      headline: [
        `Table 10, best validation loss: ${points.map((p) => `${p.row.label[0]} ${formatValue(p.loss.ours)}`).join(', ')} (paper 0.181-0.186).`,
      ],
    };
  },
};
