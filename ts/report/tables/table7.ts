/**
 * Table 7: the training nodes the unseen nodes map to (netflowgen bin --unseen's unseen.json,
 * `table7`), beside the paper's own two.
 */
import { UNSEEN_FILE, type UnseenReport } from '../../datasets/binned.js';
import { text, type TableBlock } from '../model.js';
import { cell } from './cells.js';
import { dataTable, PAPER_SOURCE, type TableModule } from './types.js';

/** The paper's Table 7: training nodes unseen validation nodes map to. */
export const PAPER_TABLE7: { node: string; attacks: string; mapped: string }[] = [
  { node: 'Node 3679', attacks: '4', mapped: '205' },
  { node: 'Node 6677', attacks: '155', mapped: '15' },
];

function publishedTable7(): TableBlock {
  return {
    title: `published in the paper (${PAPER_SOURCE})`,
    published: true,
    head: [[{ text: '' }, ...PAPER_TABLE7.map((p) => ({ text: p.node }))]],
    rows: [
      { label: ['Total attacks received'], cells: PAPER_TABLE7.map((p) => text(p.attacks)) },
      { label: ['The number of mapped unseen nodes'], cells: PAPER_TABLE7.map((p) => text(p.mapped)) },
    ],
  };
}

export const table7: TableModule<'table7'> = dataTable<'table7', UnseenReport>(
  { kind: 'table7', chain: 'data', paper: PAPER_TABLE7, stage: (plan) => plan.data.bin, file: UNSEEN_FILE },
  (unseen, u, { r }, t) => {
    const rows = unseen.table7 ?? [];
    const shown = rows.slice(0, 6);
    const blocks: TableBlock[] = [];
    const warnings: string[] = [];
    const v = (pick: (d: UnseenReport) => unknown) => cell(r.value<UnseenReport>(u, pick, 'int'));
    if (shown.length)
      blocks.push({
        title: `ours (the ${shown.length} training nodes with the most unseen nodes mapped to them${rows.length > shown.length ? `, of ${rows.length}` : ''})`,
        head: [[{ text: '' }, ...shown.map((n) => ({ text: `Node ${n.row} (${n.address})` }))]],
        rows: [
          { label: ['Total attacks received'], cells: shown.map((_, i) => v((d) => d.table7[i].attacks)) },
          {
            label: ['The number of mapped unseen nodes'],
            cells: shown.map((_, i) => v((d) => d.table7[i].mappedUnseen)),
          },
        ],
      });
    else warnings.push('No unseen nodes: every node passed the filters (data.bin.minActive, topK).');
    blocks.push(publishedTable7());
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Nodes filtered out of pre-training (here: every unseen node, not only the validation set's) mapped to the training node at the smallest L1 distance of their 5-number summaries (SPEC §4); attacks = alerts kept by the SPEC §6 filter. From ${r.rel(u)} (netflowgen bin --unseen).`,
        blocks,
        warnings,
      },
    };
  },
);
