/**
 * Table 10: the model sizes of the pre-training sweep, each point's best validation loss, accuracy
 * and perplexity (the runs' result.json, RunResult of ts/train/run.ts), beside the paper's table; a mean
 * ± sd over the pre-training seeds where the preset has several.
 */
import { join } from 'node:path';
import { RESULT_FILE } from '../../train/folder.js';
import type { RunResult } from '../../train/run.js';
import { sampleSd } from '../../evaluate/uncertainty.js';
import { formatCell, text, type Cell } from '../model.js';
import { cell, derived, mean } from './cells.js';
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
    const seeds = Math.max(1, ...(t.points ?? []).map((p) => p.replicates?.length ?? 1));
    const points = (t.points ?? []).map((p) => {
      const f = join(dirs[p.run], RESULT_FILE);
      const replicates = p.replicates ?? [{ seed: 0, run: p.run }];
      /**
       * A mean over the point's pre-training seeds, ± their sd, or the one run's number as read. Counts
       * (epochs) the seeds agree on print as that count; when they differ, as a mean with two decimals.
       */
      const overSeeds = (pick: (d: RunResult) => number | undefined, fmt: 'int' | 'f4', what: string): Cell => {
        if (replicates.length === 1) return cell(v((d) => pick(d), fmt));
        const xs = replicates
          .map((x) => pick(r.json<RunResult>(join(dirs[x.run], RESULT_FILE))))
          .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
        if (xs.length < replicates.length)
          warnings.push(
            `${p.label}: ${what} of ${replicates.length - xs.length} of its ${replicates.length} pre-training seeds is missing; the mean is over ${xs.length}.`,
          );
        if (fmt === 'int' && xs.length && xs.every((x) => x === xs[0])) return cell(derived(xs[0], 'int'));
        const f = fmt === 'int' ? 'f2' : fmt;
        const none = derived(null, f);
        return {
          ours: derived(xs.length ? mean(xs) : null, f),
          spread: { sd: derived(sampleSd(xs), f), lo: none, hi: none },
        };
      };
      const v = (pick: (d: RunResult) => unknown, fmt: 'int' | 'f4' | 'text' | 'params') =>
        r.value<RunResult>(f, pick, fmt);
      const res = r.json<RunResult>(f);
      const params =
        res.params?.total !== undefined && res.params?.total !== null
          ? v((d) => d.params!.total, 'params')
          : v((d) => d.fairseqParams, 'params');
      const s = p.sizes;
      const loss = overSeeds((d) => d.best?.loss, 'f4', 'the best validation loss');
      return {
        loss,
        row: {
          label: [`${s.layers}-${s.heads}-${s.width}-${s.ffn}${p.arch === 'netflowgen_tiny' ? ' (tiny)' : ''}`],
          cells: [
            cell(params),
            cell(v((d) => d.learning_rate, 'text')),
            cell(v((d) => d.dropout, 'text')),
            loss,
            overSeeds((d) => d.best?.acc, 'f4', 'the best validation accuracy'),
            overSeeds((d) => d.best?.ppl, 'f4', 'the best validation perplexity'),
            overSeeds((d) => d.epochs, 'int', 'the epochs trained'),
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
        note: `${seeds > 1 ? `Each row is one point of the sweep (the preset's sizes.sweep) pre-trained with each of the ${seeds} pre-training seeds (seeds.pretrain): mean ± sd over the seeds of the best validation loss, accuracy and perplexity, and of the epochs trained.` : "Each row is one pre-training run of the sweep (the preset's sizes.sweep): best validation loss, accuracy and perplexity, epochs trained."} The paper's last column (Best Val F1) is a fine-tuning result per size; we fine-tune the main model only. From the runs' result.json (netflowgen pretrain).`,
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
        `Table 10, best validation loss${seeds > 1 ? ` (mean ± sd over ${seeds} pre-training seeds)` : ''}: ${points.map((p) => `${p.row.label[0]} ${formatCell(p.loss)}`).join(', ')} (paper 0.181-0.186).`,
      ],
    };
  },
};
