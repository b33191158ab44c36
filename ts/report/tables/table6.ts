/** Table 6: each detection model fine-tuned and evaluated on one attack type at a time (detection.ts). */
import { detectionTable, metricRows, modelColumnRows, type PaperMetrics } from './detection.js';
import type { TableModule } from './types.js';

/** The paper's Table 6: per attack type (models NetFlowGen, Transformer, LSTM, trained on the small split). */
export const PAPER_TABLE6: Record<string, Record<string, PaperMetrics>> = {
  DNS: {
    NetFlowGen: { effectiveness: '100.00', overhead: '0.00', fpr: '2.83', fnr: '0.00', f1: '0.99' },
    TF: { effectiveness: '100.00', overhead: '0.06', fpr: '13.21', fnr: '0.94', f1: '0.93' },
    'MS-LSTM': { effectiveness: '63.83', overhead: '0.05', fpr: '16.04', fnr: '0.94', f1: '0.92' },
  },
  UDP: {
    NetFlowGen: { effectiveness: '95.96', overhead: '0.00', fpr: '9.52', fnr: '26.98', f1: '0.80' },
    TF: { effectiveness: '91.31', overhead: '0.01', fpr: '3.17', fnr: '33.33', f1: '0.79' },
    'MS-LSTM': { effectiveness: '53.14', overhead: '0.06', fpr: '4.76', fnr: '6.35', f1: '0.94' },
  },
  NTP: {
    NetFlowGen: { effectiveness: '99.87', overhead: '0.00', fpr: '0.00', fnr: '9.52', f1: '0.95' },
    TF: { effectiveness: '98.81', overhead: '0.00', fpr: '0.00', fnr: '4.76', f1: '0.98' },
    'MS-LSTM': { effectiveness: '93.78', overhead: '0.09', fpr: '14.29', fnr: '14.29', f1: '0.86' },
  },
};

export const table6: TableModule<'table6'> = detectionTable(
  { kind: 'table6', chain: 'detection-per-type', paper: PAPER_TABLE6 },
  ({ bound, evals, note, warnings }, { r }, t) => {
    const types = [...new Set(evals.map((e) => e.m.attackType ?? ''))];
    const metrics = metricRows(r, evals, bound, (e) => PAPER_TABLE6[e.m.attackType ?? '']?.[e.m.name]);
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Each model fine-tuned and evaluated on one attack type's examples. ${note}`,
        blocks: [
          {
            head: [
              [
                { text: 'Attack Type' },
                ...types.map((x) => ({ text: x, colspan: evals.filter((e) => e.m.attackType === x).length })),
              ],
              [{ text: '' }, ...evals.map((e) => ({ text: e.m.name }))],
            ],
            rows: modelColumnRows(r, evals, metrics),
          },
        ],
        warnings: [
          ...warnings,
          ...(t.leftOut?.length
            ? [
                `Attack types ${t.leftOut.join(', ')} are not in this preset's data (data.detect.attackTypes): left out.`,
              ]
            : []),
        ],
      },
    };
  },
);
