/**
 * Alert filtering (SPEC §6): drop alerts flagged as false positives and alerts whose reported packets
 * or bytes are below 95% of what the NetFlow series shows for the victim over the alert's minutes
 * (its incoming packets and bytes). Pure; the shell reads the observed sums from the series store.
 */
import type { Alert } from './alerts.js';

export const ALERT_DROP_REASONS = [
  'false_positive',
  'attack_type', // not one of the selected attack types
  'unknown_victim', // victim not a node of the series store
  'outside_store', // alert minutes not all inside the store's time range
  'mismatch', // reported packets or bytes below the ratio of the observed ones
  'not_in_dataset', // victim filtered out of the binned dataset (and not an unseen row)
  'short_history', // the example window would start before the store's first minute
  'window_does_not_fit', // no detection window holds both the onset and the alert start inside the split
  'no_free_window', // no non-attack window of the same node and split is free of alerts
] as const;
export type AlertDropReason = (typeof ALERT_DROP_REASONS)[number];

export interface Observed {
  packets: number;
  bytes: number;
}

/**
 * Whether the alert's report is consistent with the series: reported >= ratio x observed for both
 * packets and bytes. An alert over minutes with no traffic at all passes (nothing to contradict it).
 */
export function reportMatches(
  alert: Pick<Alert, 'reported_packets' | 'reported_bytes'>,
  observed: Observed,
  ratio = 0.95,
): boolean {
  return alert.reported_packets >= ratio * observed.packets && alert.reported_bytes >= ratio * observed.bytes;
}

/** Sum of one store column over minutes [from, to) of a minute-major block. */
export function sumColumn(series: Float32Array, stride: number, col: number, from: number, to: number): number {
  let s = 0;
  for (let t = from; t < to; t++) s += series[t * stride + col];
  return s;
}
