/** The paper's Table 2 (EarlyDetect statistics) and the CUSUM-vs-truth onset error. Pure. */
import { SPLITS, type SplitName } from '../splits/splits.js';
import { formatTable } from '../splits/table.js';
import { ATTACK_TYPES, type AttackType } from '../splits/alerts.js';

/** The columns of an example row in <split>.examples.i32. */
export const EXAMPLE_COLUMNS = ['row', 'start', 'label', 'onsetStep', 'attackType', 'alert'] as const;
export const N_COLUMNS = EXAMPLE_COLUMNS.length;

export interface Table2Row {
  nodes: number;
  examples: number;
  attacks: number;
  byType: Record<AttackType, number>;
  /** Non-attack examples drawn from unseen nodes (no alert behind them). */
  unseenExamples: number;
}
export type Table2 = Record<SplitName, Table2Row>;

/** Table 2 from the example rows of each split (Int32Array [n, N_COLUMNS]). */
export function table2(examples: Record<SplitName, Int32Array>): Table2 {
  const out = {} as Table2;
  for (const s of SPLITS) {
    const e = examples[s];
    const n = e.length / N_COLUMNS;
    const rows = new Set<number>();
    const byType = Object.fromEntries(ATTACK_TYPES.map((t) => [t, 0])) as Record<AttackType, number>;
    let attacks = 0;
    let unseen = 0;
    for (let i = 0; i < n; i++) {
      const r = i * N_COLUMNS;
      rows.add(e[r]);
      if (e[r + 2] === 1) {
        attacks++;
        byType[ATTACK_TYPES[e[r + 4]]]++;
      } else if (e[r + 5] < 0) unseen++;
    }
    out[s] = { nodes: rows.size, examples: n, attacks, byType, unseenExamples: unseen };
  }
  return out;
}

export function formatTable2(t: Table2, types: readonly AttackType[] = ATTACK_TYPES): string {
  const anyUnseen = SPLITS.some((s) => t[s].unseenExamples > 0);
  const names: Record<SplitName, string> = { train: 'Train', valid: 'Val', test: 'Test' };
  return formatTable(
    ['', 'Nodes', 'Examples', 'Total Attack', ...types, ...(anyUnseen ? ['Unseen-node'] : [])],
    SPLITS.map((s) => [
      names[s],
      t[s].nodes,
      t[s].examples,
      t[s].attacks,
      ...types.map((ty) => t[s].byType[ty]),
      ...(anyUnseen ? [t[s].unseenExamples] : []),
    ]),
  );
}

export interface OnsetError {
  /** Alerts with a true onset to compare against. */
  count: number;
  /** Of these, CUSUM raised no alarm (the onset fell back to the alert start). */
  noAlarm: number;
  /** Mean of (CUSUM onset - true onset), minutes: negative = early. */
  meanSigned: number;
  meanAbs: number;
  medianAbs: number;
  /** Shares with |error| = 0, <= 1, <= 5 minutes. */
  exact: number;
  within1: number;
  within5: number;
}

/** Onset error statistics; `errors` in minutes (estimated - true). */
export function onsetError(errors: readonly number[], noAlarm: number): OnsetError | null {
  if (!errors.length) return null;
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const n = abs.length;
  const median = n % 2 ? abs[(n - 1) / 2] : (abs[n / 2 - 1] + abs[n / 2]) / 2;
  const share = (k: number) => abs.filter((a) => a <= k).length / n;
  return {
    count: n,
    noAlarm,
    meanSigned: errors.reduce((s, e) => s + e, 0) / n,
    meanAbs: abs.reduce((s, e) => s + e, 0) / n,
    medianAbs: median,
    exact: share(0),
    within1: share(1),
    within5: share(5),
  };
}
