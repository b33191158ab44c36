/**
 * The alert feed a commercial DDoS defense would have produced, and the ground truth behind it.
 *
 * - A true alert starts `delay` minutes after the attack's onset (the ramp plus 0-4 minutes: the
 *   defense needs the attack at full strength) and ends 0-8 minutes after the attack. It reports at
 *   least everything the victim received in the alert window: reported = (all incoming packets and
 *   bytes of the victim in the window) x U(1.0, 1.2). A filter comparing the report with what the
 *   NetFlow data shows (SPEC §6, below 95% is dropped) keeps it, whatever traffic it compares with.
 * - An under-reported alert reports U(0.3, 0.9) x the attack's own packets and bytes in the window:
 *   below 95% of any reading of the data, so the filter drops it.
 * - A false-positive alert (false_positive: true) sits on a benign surge and reports the victim's
 *   incoming traffic in its window x U(1.0, 1.2).
 * - A missed attack has a ground-truth line with alert_id null and no alert.
 *
 * Units are real units: with packet sampling 1:N, sampled counts times N.
 */
import { minuteToIso } from '../serialize/store.js';
import type { AttackPlan, AttackRun, CrowdPlan, EventPlan } from './attacks.js';
import { ALERT_CSV_COLUMNS, type AlertLine, type GroundTruthLine } from '../catalogue/alerts.js';
import type { Inventory } from './inventory.js';
import { Rng } from '../common/rng.js';

export { ALERT_CSV_COLUMNS };

/** One line of alerts.jsonl / ground-truth.jsonl: the shared contracts of ts/catalogue/alerts.ts. */
export type Alert = AlertLine;
export type GroundTruth = GroundTruthLine;

/** The victim's incoming totals over an alert window, measured while the flows were generated. */
export interface WindowTotals {
  packets: number;
  bytes: number;
}

export function buildFeeds(
  seed: number,
  plan: EventPlan,
  runs: readonly AttackRun[],
  attackWindows: readonly WindowTotals[],
  crowdWindows: readonly WindowTotals[],
  inv: Inventory,
  startMinute: number,
): { alerts: Alert[]; groundTruth: GroundTruth[] } {
  const rng = Rng.derive(seed, 'alerts');
  const iso = (m: number) => minuteToIso(startMinute + m);
  type Pending = { alert: Omit<Alert, 'alert_id'>; attack: number };
  const pending: Pending[] = [];

  plan.attacks.forEach((a: AttackPlan, k) => {
    if (a.alert === 'missed') return;
    const node = inv.nodes[a.victim];
    const run = runs[k];
    let pkts: number;
    let bytes: number;
    if (a.alert === 'true') {
      pkts = attackWindows[k].packets * rng.uniform(1, 1.2);
      bytes = attackWindows[k].bytes * rng.uniform(1, 1.2);
    } else {
      // The attack's own traffic inside the alert window, under-reported.
      let p = 0;
      let b = 0;
      for (let m = Math.max(a.alertStart, a.onset); m <= Math.min(a.alertEnd, a.onset + a.duration - 1); m++) {
        p += run.pkts[m - a.onset];
        b += run.bytes[m - a.onset];
      }
      pkts = p * rng.uniform(0.3, 0.9);
      bytes = b * rng.uniform(0.3, 0.9);
    }
    pending.push({
      attack: k,
      alert: {
        victim: node.address,
        customer: node.customerId,
        attack_type: a.type,
        start: iso(a.alertStart),
        end: iso(a.alertEnd),
        reported_packets: Math.round(pkts),
        reported_bytes: Math.round(bytes),
        false_positive: false,
      },
    });
  });
  plan.crowds.forEach((c: CrowdPlan, k) => {
    const node = inv.nodes[c.victim];
    pending.push({
      attack: -1,
      alert: {
        victim: node.address,
        customer: node.customerId,
        attack_type: c.type,
        start: iso(c.alertStart),
        end: iso(c.alertEnd),
        reported_packets: Math.round(crowdWindows[k].packets * rng.uniform(1, 1.2)),
        reported_bytes: Math.round(crowdWindows[k].bytes * rng.uniform(1, 1.2)),
        false_positive: true,
      },
    });
  });

  pending.sort((x, y) =>
    x.alert.start < y.alert.start
      ? -1
      : x.alert.start > y.alert.start
        ? 1
        : x.alert.victim < y.alert.victim
          ? -1
          : x.alert.victim > y.alert.victim
            ? 1
            : 0,
  );
  const width = Math.max(5, String(pending.length).length);
  const idOfAttack = new Map<number, string>();
  const alerts: Alert[] = pending.map((p, i) => {
    const alert_id = `A${String(i + 1).padStart(width, '0')}`;
    if (p.attack >= 0) idOfAttack.set(p.attack, alert_id);
    return { alert_id, ...p.alert };
  });

  const groundTruth: GroundTruth[] = plan.attacks.map((a, k) => {
    const run = runs[k];
    return {
      alert_id: idOfAttack.get(k) ?? null,
      victim: inv.nodes[a.victim].address,
      attack_type: a.type,
      onset: iso(a.onset),
      end: iso(a.onset + a.duration - 1),
      minutes: Array.from({ length: a.duration }, (_, i) => ({
        minute: iso(a.onset + i),
        packets: run.pkts[i],
        bytes: run.bytes[i],
        flows: run.flows[i],
      })),
    };
  });
  return { alerts, groundTruth };
}

/** alerts as CSV with the JSON field names as the header. */
export function alertsCsv(alerts: readonly Alert[]): string {
  return (
    ALERT_CSV_COLUMNS.join(',') +
    '\n' +
    alerts.map((a) => ALERT_CSV_COLUMNS.map((c) => String(a[c])).join(',')).join('\n') +
    (alerts.length ? '\n' : '')
  );
}
