/**
 * DDoS attacks and benign surges: when, on whom, how strong (planEvents), and the attack's flow
 * records minute by minute (emitAttackMinute).
 *
 * An attack's volume curve, in incoming bytes per minute of the attack's own flows:
 *   ramp    (2-10 min): from 0.2-0.8x the victim's normal incoming traffic, growing geometrically
 *                       to the peak: the anomaly exists before any defense would alert;
 *   plateau            : peak = multiple x normal (multiple log-normal, median 20, 4..1000), with
 *                       +-20% noise per minute; a pulse-wave attack drops to 5% every other half-period;
 *   decay   (1-5 min)  : down to a fifth of the peak.
 * Durations are log-normal, median 30 minutes, from about ten minutes to eight hours.
 *
 * Types (synthetic):
 *   DNS: reflectors answering from UDP port 53 with large (often fragmented) responses;
 *   NTP: reflectors answering from UDP port 123 with 468-byte monlist packets;
 *   UDP: a flood from spoofed or botnet sources, random ports, small or MTU-sized packets;
 *   SYN: spoofed TCP SYNs (flag 2) to a service port; the victim answers part of them with SYN-ACKs.
 * Overlay attacks replay a real capture's flows (overlay.ts) with the same volume curve.
 *
 * Benign surges (flash crowds) raise the false-positive alerts: the node's own traffic mix, 2.5-12x.
 */
import { cycleLevel } from './activity.js';
import type { AttackType, SynthConfig } from './config.js';
import type { Inventory, SynthNode } from './inventory.js';
import type { AttackTemplate } from './overlay.js';
import { ROLES } from './roles.js';
import { Rng } from '../common/rng.js';
import { ephemeralPort } from './traffic.js';

export type AlertKind = 'true' | 'under' | 'missed';

export interface AttackPlan {
  index: number;
  victim: number;
  type: AttackType;
  /** Overlay template index, -1 for a synthetic attack. */
  template: number;
  /** First attack minute (minutes from the start of the data), number of minutes, ramp and decay minutes. */
  onset: number;
  duration: number;
  ramp: number;
  decay: number;
  /** Incoming bytes per minute (real units) at the first ramp minute and at the plateau. */
  startBytes: number;
  peakBytes: number;
  /** Peak over the victim's normal incoming bytes per minute at the onset's time of day. */
  multiple: number;
  /** Mean bytes per packet. */
  pktSize: number;
  /** Reflectors or bots in play; 0 = spoofed, a fresh random source per flow. */
  sources: number;
  /** Pulse-wave period in minutes, 0 for a steady attack. */
  pulse: number;
  /** Destination port on the victim; -1 = random per flow. */
  dstPort: number;
  /** Share of DNS amplification flows that are non-first IP fragments (no ports). */
  fragments: number;
  alert: AlertKind;
  /** Alert window (minutes from the start, inclusive); -1 when the attack raised no alert. */
  alertStart: number;
  alertEnd: number;
}

export interface CrowdPlan {
  index: number;
  victim: number;
  start: number;
  duration: number;
  /** Multiplier of the node's normal activity at the surge's height. */
  factor: number;
  type: AttackType;
  alertStart: number;
  alertEnd: number;
}

export interface EventPlan {
  attacks: AttackPlan[];
  crowds: CrowdPlan[];
  /** Attacks that found no free victim and time (a crowded small configuration). */
  skipped: number;
}

/** Minutes kept free around an event on the same node, so events never overlap. */
const GAP = 60;

type Interval = [number, number];

/** Splits `count` events over segments by their length shares; every non-empty segment gets one when there are enough. */
export function allocate(count: number, shares: readonly number[]): number[] {
  const raw = shares.map((s) => s * count);
  const out = raw.map(Math.floor);
  let left = count - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  if (count >= shares.filter((s) => s > 0).length) {
    for (let i = 0; i < out.length; i++) {
      if (shares[i] > 0 && out[i] === 0) {
        const donor = out.indexOf(Math.max(...out));
        out[donor]--;
        out[i]++;
      }
    }
  }
  return out;
}

export function planEvents(
  cfg: SynthConfig,
  inv: Inventory,
  templates: readonly AttackTemplate[],
  startMinute: number,
): EventPlan {
  const rng = Rng.derive(cfg.seed, 'plan');
  const M = cfg.minutes;
  const busy: Interval[][] = inv.nodes.map(() => []);
  const free = (node: number, a: number, b: number) => busy[node].every(([x, y]) => b + GAP < x || a - GAP > y);
  const allowed = (n: SynthNode) => cfg.victimRoles.length === 0 || cfg.victimRoles.includes(n.role);
  const victimWeights = inv.nodes.map((n) => (allowed(n) ? ROLES[n.role].victimWeight * Math.pow(n.scale, 0.3) : 0));
  if (cfg.attacks > 0 && victimWeights.every((w) => w === 0))
    throw new Error(`synth: no node has a role of --victim-roles (${cfg.victimRoles.join(', ')})`);

  // Segments of the time axis (the train / validation / test splits).
  const bounds = [0, Math.round(cfg.splits[0] * M), Math.round((cfg.splits[0] + cfg.splits[1]) * M), M];
  const segments = [0, 1, 2].map((s) => [bounds[s], bounds[s + 1]] as const);
  const onsetRange = (seg: number, needed: number): [number, number] => {
    const [a, b] = segments[seg];
    const lead = Math.min(cfg.history, Math.floor((b - a) / 2));
    let lo = a + lead;
    let hi = b - needed - 1;
    if (hi < lo) {
      lo = Math.min(cfg.history, Math.floor(M / 2));
      hi = M - needed - 1;
    }
    return [lo, Math.max(lo, hi)];
  };

  const synthTypes = (['DNS', 'NTP', 'UDP', 'SYN'] as const).filter((t) => cfg.attackMix[t] > 0);
  const synthWeights = synthTypes.map((t) => cfg.attackMix[t]);
  const perSegment = allocate(cfg.attacks, cfg.splits);

  const attacks: AttackPlan[] = [];
  let skipped = 0;
  for (let seg = 0; seg < 3; seg++) {
    for (let k = 0; k < perSegment[seg]; k++) {
      const useTemplate = templates.length > 0 && (synthTypes.length === 0 || rng.chance(cfg.overlayShare));
      const template = useTemplate ? rng.int(templates.length) : -1;
      const type: AttackType = template >= 0 ? templates[template].type : synthTypes[rng.weighted(synthWeights)];
      const ramp = rng.intIn(2, 10);
      const decay = rng.intIn(1, 5);
      const duration = Math.min(
        Math.floor(M / 4),
        Math.max(ramp + decay + 8, Math.min(480, Math.round(rng.lognormal(30, 0.9)))),
      );
      const delay = ramp + Math.min(4, rng.geometric(0.5) - 1);
      const endLag = rng.intIn(0, 8);
      const [lo, hi] = onsetRange(seg, duration + endLag);
      let placed: AttackPlan | null = null;
      // An overlay capture's sources fix the victim's address family.
      const weights = victimWeights.map((w, i) =>
        template >= 0 && (templates[template].family === 6) !== inv.nodes[i].v6 ? 0 : w,
      );
      const anyVictim = weights.some((w) => w > 0);
      for (let tries = 0; tries < 200 && !placed && anyVictim; tries++) {
        const victim = rng.weighted(weights);
        const onset = rng.intIn(lo, hi);
        const end = Math.min(M - 1, onset + duration - 1 + endLag);
        if (!free(victim, onset, end)) continue;
        busy[victim].push([onset, end]);
        placed = shapeAttack(
          rng,
          cfg,
          inv.nodes[victim],
          attacks.length,
          type,
          template,
          templates,
          onset,
          duration,
          ramp,
          decay,
          startMinute,
          inv,
        );
        placed.alertStart = onset + delay;
        placed.alertEnd = end;
      }
      if (placed) attacks.push(placed);
      else skipped++;
    }
  }

  // Which attacks raise no alert, and which alerts under-report.
  for (const a of attacks) {
    if (rng.chance(cfg.missedShare)) a.alert = 'missed';
    else if (rng.chance(cfg.underReportedShare)) a.alert = 'under';
    if (a.alert === 'missed') a.alertStart = a.alertEnd = -1;
  }
  attacks.sort((x, y) => x.onset - y.onset || x.victim - y.victim);
  attacks.forEach((a, i) => (a.index = i));

  // Benign surges for the false-positive alerts.
  const alerting = attacks.filter((a) => a.alert !== 'missed').length;
  const nCrowds =
    cfg.falsePositiveShare > 0 ? Math.round((alerting * cfg.falsePositiveShare) / (1 - cfg.falsePositiveShare)) : 0;
  const crowds: CrowdPlan[] = [];
  const perSegmentCrowds = allocate(nCrowds, cfg.splits);
  for (let seg = 0; seg < 3; seg++) {
    for (let k = 0; k < perSegmentCrowds[seg]; k++) {
      const duration = Math.max(6, Math.min(120, Math.round(rng.lognormal(20, 0.6))));
      const [lo, hi] = onsetRange(seg, duration + 6);
      for (let tries = 0; tries < 200; tries++) {
        const victim = rng.weighted(victimWeights);
        const start = rng.intIn(lo, hi);
        const alertEnd = Math.min(M - 1, start + duration - 1 + rng.intIn(0, 5));
        if (!free(victim, start, alertEnd)) continue;
        busy[victim].push([start, alertEnd]);
        const role = inv.nodes[victim].role;
        const udpHeavy = role === 'dns' || role === 'ntp' || role === 'game';
        // The alert starts 2-6 minutes into the surge, never after the alert's end (a 6-minute surge ends at start + 5).
        crowds.push({
          index: 0,
          victim,
          start,
          duration,
          factor: Math.min(12, Math.max(2.5, rng.lognormal(4, 0.4))),
          type: udpHeavy ? 'UDP' : 'other',
          alertStart: Math.min(start + rng.intIn(2, 6), alertEnd),
          alertEnd,
        });
        break;
      }
    }
  }
  crowds.sort((x, y) => x.start - y.start || x.victim - y.victim);
  crowds.forEach((c, i) => (c.index = i));
  return { attacks, crowds, skipped };
}

function shapeAttack(
  rng: Rng,
  cfg: SynthConfig,
  node: SynthNode,
  index: number,
  type: AttackType,
  template: number,
  templates: readonly AttackTemplate[],
  onset: number,
  duration: number,
  ramp: number,
  decay: number,
  startMinute: number,
  inv: Inventory,
): AttackPlan {
  const normal = Math.max(
    1,
    node.meanInPerMinute * cycleLevel(node.role, startMinute + onset, inv.customers[node.customer].tzOffset),
  );
  const multiple = Math.min(1000, Math.max(4, rng.lognormal(20, 0.9)));
  // Whatever the victim's size, an attack carries at least about 2 MB a minute (~270 kbit/s).
  const peakBytes = Math.max(multiple * normal, rng.lognormal(2e6, 0.5));
  const startBytes = Math.min(peakBytes / 3, normal * rng.uniform(0.2, 0.8));
  let pktSize: number;
  let sources: number;
  let dstPort = rng.chance(0.5) ? -1 : ephemeralPort(rng);
  let fragments = 0;
  if (template >= 0) {
    // A real capture brings its own sources, ports and packet sizes.
    pktSize = templates[template].bytesPerPacket;
    sources = templates[template].sources;
    dstPort = -1;
  } else {
    switch (type) {
      case 'DNS':
        pktSize = rng.uniform(1100, 1480);
        sources = Math.round(Math.min(20000, Math.max(20, rng.lognormal(600, 1))));
        fragments = rng.chance(0.5) ? rng.uniform(0.2, 0.5) : 0;
        break;
      case 'NTP':
        pktSize = 468;
        sources = Math.round(Math.min(5000, Math.max(10, rng.lognormal(300, 1))));
        break;
      case 'SYN':
        pktSize = rng.pick(node.v6 ? [60, 80] : [40, 44, 60]);
        sources = 0;
        dstPort =
          node.servicePort && ROLES[node.role].synTargets.includes(node.servicePort)
            ? node.servicePort
            : rng.pick(ROLES[node.role].synTargets);
        break;
      default: // UDP flood
        pktSize = rng.chance(0.5) ? rng.uniform(60, 130) : rng.uniform(1000, 1470);
        sources = rng.chance(0.5) ? 0 : Math.round(Math.min(50000, Math.max(50, rng.lognormal(2000, 1))));
        if (rng.chance(0.3)) dstPort = rng.pick([80, 443, 53, 27015, 3074]);
    }
  }
  return {
    index,
    victim: node.index,
    type,
    template,
    onset,
    duration,
    ramp,
    decay,
    startBytes,
    peakBytes,
    multiple,
    pktSize,
    sources,
    pulse: rng.chance(0.15) ? rng.intIn(4, 12) : 0,
    dstPort,
    fragments,
    alert: 'true',
    alertStart: -1,
    alertEnd: -1,
  };
}

// The running attack lives in attack-run.ts; importable from here as before.
export { AttackRun, attackCurve } from './attack-run.js';
