/**
 * Table 2: the EarlyDetect examples per split (netflowgen detect-dataset's manifest.json: `table2`,
 * the alerts kept and dropped, and the CUSUM onsets against the true ones).
 */
import { EARLYDETECT_MANIFEST, type EarlyDetectManifest } from '../../earlydetect/build.js';
import type { AttackType } from '../../splits/alerts.js';
import type { HeadCell } from '../model.js';
import { cell, countList } from './cells.js';
import { dataTable, type TableModule } from './types.js';

/** The paper's Table 2, per split. */
export const PAPER_TABLE2: Record<
  'train' | 'valid' | 'test',
  { nodes: string; examples: string; attacks: string; DNS: string; UDP: string; NTP: string }
> = {
  train: { nodes: '377', examples: '1606', attacks: '803', DNS: '255', UDP: '412', NTP: '92' },
  valid: { nodes: '45', examples: '360', attacks: '180', DNS: '13', UDP: '139', NTP: '25' },
  test: { nodes: '135', examples: '406', attacks: '203', DNS: '106', UDP: '63', NTP: '21' },
};

const SPLITS = ['train', 'valid', 'test'] as const;
const NAMES: Record<(typeof SPLITS)[number], string> = { train: 'Train', valid: 'Val', test: 'Test' };

export const table2: TableModule<'table2'> = dataTable<'table2', EarlyDetectManifest>(
  {
    kind: 'table2',
    chain: 'detect-data',
    paper: PAPER_TABLE2,
    stage: (plan) => plan.data.detect,
    file: EARLYDETECT_MANIFEST,
  },
  (man, m, { r }, t) => {
    const types = man.selectedAttackTypes as AttackType[];
    const anyUnseen = SPLITS.some((s) => man.table2[s].unseenExamples > 0);
    const onset = man.onsetError;
    const head: HeadCell[] = [
      { text: '' },
      { text: 'Nodes' },
      { text: 'Examples' },
      { text: 'Total Attack' },
      ...types.map((x) => ({ text: x })),
      ...(anyUnseen ? [{ text: 'Unseen-node' }] : []),
    ];
    const paper = (s: (typeof SPLITS)[number], k: string) => (PAPER_TABLE2[s] as Record<string, string | undefined>)[k];
    const v = (pick: (d: EarlyDetectManifest) => unknown) => r.value<EarlyDetectManifest>(m, pick, 'int');
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note:
          `One attack and one non-attack example per kept alert, ${man.windowLength}-minute history with a ${man.detectLength}-minute detection window (the paper's: 512 and 30). ` +
          `${man.alerts.length} of ${man.alertsRead} alerts kept (dropped: ${countList(man.dropped, 'none')}). ` +
          `Non-attack examples avoid ${man.negatives === 'ground-truth' ? 'every alert and every true attack of the ground truth (cleaner than real data allows)' : "the node's alerts only, as in the paper's data (an unalerted attack may fall in one)"}. ` +
          (onset
            ? `CUSUM onsets against the true onsets: median |error| ${onset.medianAbs} min, ${(100 * onset.within5).toFixed(0)}% within 5 min (${onset.count} alerts). `
            : '') +
          `From ${r.rel(m)} (netflowgen detect-dataset).`,
        blocks: [
          {
            head: [head],
            rows: SPLITS.map((s) => ({
              label: [NAMES[s]],
              cells: [
                cell(
                  v((d) => d.table2[s].nodes),
                  paper(s, 'nodes'),
                ),
                cell(
                  v((d) => d.table2[s].examples),
                  paper(s, 'examples'),
                ),
                cell(
                  v((d) => d.table2[s].attacks),
                  paper(s, 'attacks'),
                ),
                ...types.map((x) =>
                  cell(
                    v((d) => d.table2[s].byType[x]),
                    paper(s, x),
                  ),
                ),
                ...(anyUnseen ? [cell(v((d) => d.table2[s].unseenExamples))] : []),
              ],
            })),
          },
        ],
        warnings: [],
      },
    };
  },
);
