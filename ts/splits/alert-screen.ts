/**
 * Screens an alert feed against a series store (SPEC §6 filter): the checks that need only the
 * alert and the victim's raw series. Reads just the alert minutes of each victim.
 */
import type { SeriesStore } from '../serialize/store.js';
import type { Alert, AttackType } from './alerts.js';
import { reportMatches, sumColumn, type AlertDropReason, type Observed } from './alert-filter.js';

export interface ScreenOptions {
  /** Attack types kept (default: all). */
  attackTypes?: readonly AttackType[];
  /** Reported packets and bytes must be at least this share of the observed ones (default 0.95). */
  ratio?: number;
}

export interface ScreenedAlert {
  alert: Alert;
  /** Victim's index in the store, or -1. */
  node: number;
  /** Alert start and end (inclusive) as store minute indices. */
  start: number;
  end: number;
  observed: Observed | null;
  /** Why it is dropped, or null when it passes. */
  drop: AlertDropReason | null;
}

export function screenAlerts(alerts: readonly Alert[], store: SeriesStore, opts: ScreenOptions = {}): ScreenedAlert[] {
  const feats = store.manifest.features;
  const pktCol = feats.indexOf('in.pkt');
  const bytCol = feats.indexOf('in.byt');
  if (pktCol < 0 || bytCol < 0)
    throw new Error(`${store.dir}: the store lacks in.pkt or in.byt, needed to check alerts against the traffic`);
  const types = opts.attackTypes ? new Set(opts.attackTypes) : null;
  return alerts.map((alert) => {
    const node = store.nodeIndex(alert.victim);
    const start = alert.startMinute - store.startMinute;
    const end = alert.endMinute - store.startMinute;
    const out: ScreenedAlert = { alert, node, start, end, observed: null, drop: null };
    if (alert.false_positive) out.drop = 'false_positive';
    else if (types && !types.has(alert.attack_type)) out.drop = 'attack_type';
    else if (node < 0) out.drop = 'unknown_victim';
    else if (start < 0 || end >= store.nMinutes) out.drop = 'outside_store';
    else {
      const block = store.readNode(node, start, end + 1);
      const F = store.nFeatures;
      out.observed = {
        packets: sumColumn(block, F, pktCol, 0, end + 1 - start),
        bytes: sumColumn(block, F, bytCol, 0, end + 1 - start),
      };
      if (!reportMatches(alert, out.observed, opts.ratio ?? 0.95)) out.drop = 'mismatch';
    }
    return out;
  });
}
