/**
 * Table 8: confusion matrices of the unseen-node examples (all non-attack), per split, at the
 * threshold each model's evaluation chose at the table bound (evaluation.json's `unseen`).
 */
import type { TableBlock } from '../model.js';
import { cell, derived } from './cells.js';
import { loadEval, type EvaluationFile } from './detection.js';
import type { TableModule } from './types.js';

/** The paper's Table 8: NetFlowGen on unseen nodes (432 non-attack examples per split). */
export const PAPER_TABLE8: Record<
  'valid' | 'test',
  { tp: string; fn: string; fp: string; tn: string; attacks: string; normal: string }
> = {
  valid: { tp: '0', fn: '0', attacks: '0', fp: '2', tn: '430', normal: '432' },
  test: { tp: '0', fn: '0', attacks: '0', fp: '0', tn: '432', normal: '432' },
};

type Confusion = EvaluationFile['evaluation']['unseen'][number]['confusion'];

export const table8: TableModule<'table8'> = {
  kind: 'table8',
  section: 'results',
  chain: 'detection',
  trained: true,
  paper: PAPER_TABLE8,
  collect({ r, dirs }, t) {
    const evals = (t.models ?? []).map((m) => loadEval(r, m, dirs));
    const blocks: TableBlock[] = [];
    const warnings: string[] = [];
    for (const e of evals) {
      const unseen = e.data.evaluation.unseen ?? [];
      const wanted = t.unseenSplits ?? ['valid', 'test'];
      for (const [i, u] of unseen.entries()) {
        if (!wanted.includes(u.split as 'valid' | 'test')) continue;
        const p = PAPER_TABLE8[u.split as 'valid' | 'test'];
        const c = (k: keyof Confusion) =>
          r.value<EvaluationFile>(e.file, (d) => d.evaluation.unseen[i].confusion[k], 'int');
        const n = u.confusion;
        blocks.push({
          title: `${e.m.name}, ${u.split === 'valid' ? 'validation' : u.split} set (τ of the ${Math.round((t.bound ?? 0.8) * 100)}% bound)`,
          head: [
            [{ text: '' }, { text: '' }, { text: 'Predicted True' }, { text: 'Predicted False' }, { text: 'Total' }],
          ],
          rows: [
            {
              label: ['Actual', 'True'],
              cells: [cell(c('tp'), p?.tp), cell(c('fn'), p?.fn), cell(derived(n.tp + n.fn, 'int'), p?.attacks)],
            },
            {
              label: ['Actual', 'False'],
              cells: [cell(c('fp'), p?.fp), cell(c('tn'), p?.tn), cell(derived(n.fp + n.tn, 'int'), p?.normal)],
            },
          ],
        });
      }
      if (!unseen.length)
        warnings.push(
          `${e.m.name}: no unseen-node examples to judge (data.detect.unseenExamples is 0, or no node was left unseen).`,
        );
    }
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Non-attack examples of nodes never seen in pre-training (each mapped to its nearest training node, Table 7), judged at the threshold the model's evaluation chose at the table bound; the paper has 432 per split. Totals are sums of the two cells beside them. From each model's evaluation.json (netflowgen evaluate-detect).`,
        blocks,
        warnings,
      },
    };
  },
};
