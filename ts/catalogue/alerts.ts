/**
 * The alert feed and the synthetic ground truth, as data contracts (JSON lines;
 * schemas/alerts.schema.json, schemas/ground-truth.schema.json). synth writes them, EarlyDetect
 * reads them; both use these definitions.
 */

/** Attack types of the feed (SPEC §6): DNS, NTP, UDP (amplification / floods), SYN floods, other. */
export const ATTACK_TYPES = ['DNS', 'NTP', 'UDP', 'SYN', 'other'] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];

/** One line of alerts.jsonl. Times are ISO minutes (UTC); `end` is inclusive. */
export interface AlertLine {
  alert_id: string;
  victim: string;
  customer: string;
  attack_type: AttackType;
  start: string;
  end: string;
  reported_packets: number;
  reported_bytes: number;
  false_positive: boolean;
}

/** The columns of the CSV form of the feed, in order. */
export const ALERT_CSV_COLUMNS = [
  'alert_id',
  'victim',
  'customer',
  'attack_type',
  'start',
  'end',
  'reported_packets',
  'reported_bytes',
  'false_positive',
] as const;

/** One line of ground-truth.jsonl: one attack, with its flows' own incoming totals per minute (the spoof list). */
export interface GroundTruthLine {
  alert_id: string | null;
  victim: string;
  attack_type: AttackType;
  onset: string;
  end: string;
  minutes: { minute: string; packets: number; bytes: number; flows: number }[];
}
