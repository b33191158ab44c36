/**
 * What detect-dataset says about the examples it could not make or should not trust: why no alert
 * was kept (noAlertKept, from the filter's drop counts), and how many non-attack examples overlap a
 * true attack of the ground truth (negativesOverlap, counted only).
 */
import { SPLITS, type MinuteRange, type SplitName } from '../splits/splits.js';
import type { TruthAttack } from '../splits/alerts.js';
import type { AlertDropReason } from '../splits/alert-filter.js';
import { N_COLUMNS } from './summary.js';

/** What to say when no alert makes an example: the feed is empty, or why every alert was dropped. */
const DROP_HINTS: Record<AlertDropReason, string> = {
  false_positive: 'marked false positive',
  attack_type: 'attack types not selected (--attack-types)',
  unknown_victim:
    "victims that are not nodes of the store (check the inventory's prefixes against the alerts' victims)",
  outside_store: "alert minutes outside the store's time range (alerts of another period, or a time zone?)",
  mismatch: 'reported volumes below --ratio of what the series shows (sampling not given to serialize?)',
  not_in_dataset: 'victims filtered out by bin (--min-active, --top-k, --exclude-customers)',
  short_history: 'too little history before the onset for a window (a shorter --window?)',
  window_does_not_fit: 'no detection window holds both the onset and the alert start inside its split',
  no_free_window: 'no non-attack window of the node free of alerts (a smaller --margin?)',
};

export function noAlertKept(
  file: string,
  read: number,
  dropped: Record<AlertDropReason, number>,
  firstMinute: string,
  minutes: number,
  types: readonly string[],
): string {
  if (read === 0)
    return `no alert kept: the alert feed ${file} holds no alert; the detection datasets need alerts (docs/own-data.md says what runs without them: serialize, bin, pre-training, Table 4); no folder was written`;
  const reasons = (Object.entries(dropped) as [AlertDropReason, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const text = reasons.map(([r, n]) => `${n} ${r}: ${DROP_HINTS[r]}`).join('; ');
  return `no alert kept: all ${read} alerts of ${file} were dropped (${text}). The store covers ${minutes} minutes from ${firstMinute}; attack types kept: ${types.join(', ')}; no folder was written`;
}

/**
 * Non-attack examples (label 0) per split whose W-minute example [start, start + W), or whose
 * detection window [start + W - D, start + W), overlaps a true attack of their node, onset to end
 * inclusive (store minutes). The ground truth is only counted here; labels and masks stay as the
 * alerts make them.
 */
export function negativesOverlap(
  examples: Record<SplitName, Int32Array>,
  truth: readonly TruthAttack[],
  addressOf: (row: number) => string,
  startMinute: number,
  W: number,
  D: number,
): { example: Record<SplitName, number>; detectionWindow: Record<SplitName, number> } {
  const attacks = new Map<string, MinuteRange[]>(); // [onset, end + 1) per victim, store minutes
  for (const t of truth) {
    const list = attacks.get(t.victim) ?? [];
    list.push({ start: t.onsetMinute - startMinute, end: t.endMinute - startMinute + 1 });
    attacks.set(t.victim, list);
  }
  const hits = (list: readonly MinuteRange[], from: number, to: number) =>
    list.some((r) => r.start < to && r.end > from);
  const example = { train: 0, valid: 0, test: 0 };
  const detectionWindow = { train: 0, valid: 0, test: 0 };
  for (const s of SPLITS) {
    const e = examples[s];
    for (let i = 0; i < e.length; i += N_COLUMNS) {
      if (e[i + 2] !== 0) continue;
      const list = attacks.get(addressOf(e[i]));
      if (!list) continue;
      const start = e[i + 1];
      if (hits(list, start, start + W)) example[s]++;
      if (hits(list, start + W - D, start + W)) detectionWindow[s]++;
    }
  }
  return { example, detectionWindow };
}
