/**
 * Detectors judged against ground truth and compared at a matched false-alert rate (bench:watch,
 * docs/watch.md "Measured"). Pure.
 *
 * A score log is what a replay gave one detector: per node, the survival S (S_{D-1} of the node's window,
 * the value the watch compares with tau) at every scored minute, in time order.
 *
 *  - attackEvents(log, tau, rules): the watch's own alert state machine (alerts.ts `alertStep`, a fresh
 *    state per node) run over the log: the attack events a fresh watch at threshold tau writes.
 *  - judge(events, truth, D, nodeWeeks): an attack (victim, onset, end) is alerted when an attack event on
 *    its victim falls in [onset, end + D]; its delay is the first such event's minute minus onset. A false
 *    alert is an attack event at a minute no attack on that node covers ([onset, end + D]).
 *    nodeWeeks = scored node-minutes / 10,080. Median and p90 by linear interpolation between order
 *    statistics (R's type 7).
 *  - matchRate(log, truth, D, target, rules): the detector at a threshold with at most `target` false alerts
 *    per node-week, searched over the log's own values: with u_0 < ... < u_{K-1} its distinct survivals,
 *    candidate k is tau = u_k (S <= u_{k-1} alerts; k = 0: nothing does) and k = K is just above u_{K-1}.
 *    Candidates are tried at geometrically spaced k, then the gap between the largest acceptable one and
 *    the next tried is bisected, then the NEAR (200) candidates below that edge are all tried (the
 *    false-alert count is not monotone in tau: alerts merge, and a threshold above everything gives one
 *    endless alert per node; the best point lies near the edge, not always on it). Of the acceptable
 *    candidates tried, the one alerting most attacks wins, then the lower median delay, fewer false
 *    alerts, the smaller tau.
 *    Such a threshold is chosen ON the data it is judged on: an operating point (what each detector does
 *    at the same false-alert rate), not a tuned or held-out result.
 */
import { alertStep, newAlertState, type AlertRules } from './alerts.js';

export interface NodeScores {
  minutes: number[];
  survival: number[];
}
/** node address -> its scores in time order. */
export type ScoreLog = Map<string, NodeScores>;

export interface TruthAttack {
  node: string;
  onset: number;
  end: number;
}

export interface Judged {
  tau: number;
  attacks: number;
  alerted: number;
  medianDelay: number | null;
  p90Delay: number | null;
  attackEvents: number;
  falseAlerts: number;
  falsePerNodeWeek: number;
  nodeWeeks: number;
}

export const MINUTES_PER_WEEK = 10_080;
/** Candidates below the edge that matchRate tries one by one. */
export const NEAR = 200;

/** Appends one score to a log (minutes must come in time order per node). */
export function logScore(log: ScoreLog, node: string, minute: number, survival: number): void {
  let s = log.get(node);
  if (!s) log.set(node, (s = { minutes: [], survival: [] }));
  s.minutes.push(minute);
  s.survival.push(survival);
}

export function nodeWeeksOf(log: ScoreLog): number {
  let n = 0;
  for (const s of log.values()) n += s.minutes.length;
  return n / MINUTES_PER_WEEK;
}

/** Type-7 quantile of xs (null when empty). */
export function quantile(xs: readonly number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** The attack events (node, minute) a fresh watch at `tau` writes for this log. */
export function attackEvents(log: ScoreLog, tau: number, rules: AlertRules): { node: string; minute: number }[] {
  const out: { node: string; minute: number }[] = [];
  for (const [node, s] of log) {
    const st = newAlertState();
    for (let i = 0; i < s.minutes.length; i++)
      if (alertStep(st, s.minutes[i], s.survival[i], tau, rules) === 'attack') out.push({ node, minute: s.minutes[i] });
  }
  return out;
}

export function judge(
  events: readonly { node: string; minute: number }[],
  truth: readonly TruthAttack[],
  D: number,
  nodeWeeks: number,
  tau = NaN,
): Judged {
  const byNode = new Map<string, number[]>();
  for (const e of events) byNode.set(e.node, [...(byNode.get(e.node) ?? []), e.minute]);
  for (const m of byNode.values()) m.sort((a, b) => a - b);
  const delays: number[] = [];
  for (const g of truth) {
    const hit = byNode.get(g.node)?.find((m) => m >= g.onset && m <= g.end + D);
    if (hit !== undefined) delays.push(hit - g.onset);
  }
  const truthBy = new Map<string, TruthAttack[]>();
  for (const g of truth) truthBy.set(g.node, [...(truthBy.get(g.node) ?? []), g]);
  const falseAlerts = events.filter(
    (e) => !(truthBy.get(e.node) ?? []).some((g) => e.minute >= g.onset && e.minute <= g.end + D),
  ).length;
  return {
    tau,
    attacks: truth.length,
    alerted: delays.length,
    medianDelay: quantile(delays, 0.5),
    p90Delay: quantile(delays, 0.9),
    attackEvents: events.length,
    falseAlerts,
    falsePerNodeWeek: nodeWeeks > 0 ? falseAlerts / nodeWeeks : NaN,
    nodeWeeks,
  };
}

/** The log's distinct finite survivals, ascending. */
function distinctValues(log: ScoreLog): number[] {
  const all: number[] = [];
  for (const s of log.values()) for (const v of s.survival) if (Number.isFinite(v)) all.push(v);
  all.sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of all) if (!out.length || v !== out[out.length - 1]) out.push(v);
  return out;
}

/** The detector at the largest threshold whose false alerts per node-week do not exceed `target` (docstring). */
export function matchRate(
  log: ScoreLog,
  truth: readonly TruthAttack[],
  D: number,
  target: number,
  rules: AlertRules,
): Judged {
  const u = distinctValues(log);
  const K = u.length;
  const weeks = nodeWeeksOf(log);
  const tauAt = (k: number) => (k < K ? u[k] : u[K - 1] + Math.max(1e-12, Math.abs(u[K - 1]) * 1e-9));
  const tried = new Map<number, Judged>();
  const at = (k: number): Judged => {
    let j = tried.get(k);
    if (!j) tried.set(k, (j = judge(attackEvents(log, tauAt(k), rules), truth, D, weeks, tauAt(k))));
    return j;
  };
  const ok = (k: number) => at(k).falsePerNodeWeek <= target;
  if (K === 0) return judge([], truth, D, weeks, NaN);
  const grid: number[] = [];
  for (let k = 0; k <= K; k = Math.max(k + 1, Math.floor(k * 1.3))) grid.push(k);
  if (grid[grid.length - 1] !== K) grid.push(K);
  let edge = 0;
  let next = -1;
  for (let i = 0; i < grid.length; i++)
    if (ok(grid[i])) {
      edge = grid[i];
      next = i + 1 < grid.length ? grid[i + 1] : -1;
    }
  if (next > 0) {
    let lo = edge;
    let hi = next;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    edge = lo;
  }
  for (let k = Math.max(0, edge - NEAR); k < edge; k++) ok(k);
  const better = (x: Judged, y: Judged) =>
    x.alerted !== y.alerted
      ? x.alerted > y.alerted
      : (x.medianDelay ?? Infinity) !== (y.medianDelay ?? Infinity)
        ? (x.medianDelay ?? Infinity) < (y.medianDelay ?? Infinity)
        : x.falseAlerts !== y.falseAlerts
          ? x.falseAlerts < y.falseAlerts
          : x.tau < y.tau;
  let best = at(0);
  for (const j of tried.values()) if (j.falsePerNodeWeek <= target && better(j, best)) best = j;
  return best;
}
