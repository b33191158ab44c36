/**
 * Alerts of `netflowgen watch` (schemas/watch-alert.schema.json): when a node starts and stops alerting, and
 * what an alert says. Pure.
 *
 * A detector (the model, or a simple detector with --detectors) gives each node at each closed minute m the
 * survival S over its current detection window (the last D minutes ending at m: S_{D-1} of the window) and
 * its threshold tau. Per node and detector:
 *
 *   quiet -> attack   at the first minute with S < tau, unless m < cooldownUntil (event "attack": ban)
 *   attack -> quiet   after `endAfter` consecutive minutes with S >= tau (event "end": unban, at the last
 *                     of them); cooldownUntil = m + cooldown (no new attack event for `cooldown` minutes)
 *
 * The attack-type guess is a heuristic on this minute's incoming traffic: the protocol class with most
 * incoming packets, named by its port class when one port class holds most of them (port53 DNS, port123
 * NTP, port80/443 HTTP(S)); it is a hint for the operator, not a classifier.
 */
import { FEATURES, PORT_CLASSES, PROTOCOL_CLASSES, featureIndex, type FeatureGroup } from '../catalogue/features.js';
import { minuteToIso } from '../serialize/store.js';

export type DetectorName = 'model' | 'static' | 'ewma-cusum';

export interface AlertState {
  active: boolean;
  since: number;
  quiet: number;
  cooldownUntil: number;
  /** Lowest survival while active. */
  low: number;
}

export interface AlertRules {
  cooldown: number;
  endAfter: number;
}

export const newAlertState = (): AlertState => ({
  active: false,
  since: -1,
  quiet: 0,
  cooldownUntil: 0, // epoch minute 0 (1970): always past; a finite number survives JSON (the state file)
  low: 1,
});

/** One step of the state machine (module docstring); mutates `s`. */
export function alertStep(
  s: AlertState,
  minute: number,
  survival: number,
  tau: number,
  rules: AlertRules,
): 'attack' | 'end' | null {
  if (!s.active) {
    if (survival < tau && minute >= s.cooldownUntil) {
      Object.assign(s, { active: true, since: minute, quiet: 0, low: survival });
      return 'attack';
    }
    return null;
  }
  s.low = Math.min(s.low, survival);
  s.quiet = survival < tau ? 0 : s.quiet + 1;
  if (s.quiet >= rules.endAfter) {
    Object.assign(s, { active: false, quiet: 0, cooldownUntil: minute + rules.cooldown });
    return 'end';
  }
  return null;
}

export interface Traffic {
  in: { pps: number; bps: number; flowsPerSecond: number };
  out: { pps: number; bps: number; flowsPerSecond: number };
}

const F = (name: string) => featureIndex(name);
const VOL = { inPkt: F('in.pkt'), inByt: F('in.byt'), inFlow: F('in.flow') };
const VOL_OUT = { pkt: F('out.pkt'), byt: F('out.byt'), flow: F('out.flow') };

export function trafficOf(x: ArrayLike<number>): Traffic {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    in: { pps: r(x[VOL.inPkt] / 60), bps: r((x[VOL.inByt] * 8) / 60), flowsPerSecond: r(x[VOL.inFlow] / 60) },
    out: { pps: r(x[VOL_OUT.pkt] / 60), bps: r((x[VOL_OUT.byt] * 8) / 60), flowsPerSecond: r(x[VOL_OUT.flow] / 60) },
  };
}

const NAMED_PORTS: Record<string, string> = { port53: 'DNS', port123: 'NTP', port80: 'HTTP', port443: 'HTTPS' };

/** The attack-type guess (module docstring). */
export function guessAttackType(x: ArrayLike<number>): { guess: string; protocol: string; share: number } {
  const total = x[VOL.inPkt];
  if (!(total > 0)) return { guess: 'unknown', protocol: 'none', share: 0 };
  let best = 0;
  let bestV = -1;
  PROTOCOL_CLASSES.forEach((p, i) => {
    const v = x[F(`in.${p}.pkt`)];
    if (v > bestV) [best, bestV] = [i, v];
  });
  const protocol = PROTOCOL_CLASSES[best];
  const share = Math.round((bestV / total) * 1000) / 1000;
  let guess = protocol.toUpperCase();
  let portV = -1;
  let port = '';
  for (const c of PORT_CLASSES) {
    const v = x[F(`in.${c}.pkt`)];
    if (v > portV) [port, portV] = [c, v];
  }
  if (portV > 0.5 * total && NAMED_PORTS[port]) guess = `${NAMED_PORTS[port]} (${guess})`;
  return { guess, protocol, share };
}

export interface WatchAlert {
  kind: 'netflowgen.watch-alert';
  id: string;
  event: 'attack' | 'end';
  detector: DetectorName;
  node: string;
  customer: string;
  minute: string;
  epochMinute: number;
  /** For an end event: when the attack event was. */
  since?: string;
  durationMinutes?: number;
  survival: number;
  lowestSurvival?: number;
  hazard: number | null;
  tau: number;
  direction: 'incoming' | 'outgoing';
  traffic: Traffic;
  featureGroups: { group: FeatureGroup; rise: number }[];
  attackType: { guess: string; protocol: string; share: number };
  model: { run: string; checkpoint: string; arch: string; window: number; detect: number };
  mapping?: { mappedTo: string; distance: number };
}

/** The id that makes an alert unique across restarts. */
export const alertId = (detector: DetectorName, node: string, minute: number, event: 'attack' | 'end') =>
  `${detector}:${node}:${minute}:${event}`;

export function makeAlert(a: {
  event: 'attack' | 'end';
  detector: DetectorName;
  node: string;
  customer: string;
  minute: number;
  state: AlertState;
  survival: number;
  hazard: number | null;
  tau: number;
  current: ArrayLike<number>;
  groups: { group: FeatureGroup; rise: number }[];
  model: WatchAlert['model'];
  mapping?: WatchAlert['mapping'];
}): WatchAlert {
  const traffic = trafficOf(a.current);
  return {
    kind: 'netflowgen.watch-alert',
    id: alertId(a.detector, a.node, a.minute, a.event),
    event: a.event,
    detector: a.detector,
    node: a.node,
    customer: a.customer,
    minute: minuteToIso(a.minute),
    epochMinute: a.minute,
    ...(a.event === 'end'
      ? {
          since: minuteToIso(a.state.since),
          durationMinutes: a.minute - a.state.since + 1,
          lowestSurvival: a.state.low,
        }
      : {}),
    survival: a.survival,
    hazard: a.hazard,
    tau: a.tau,
    direction: traffic.in.pps >= traffic.out.pps ? 'incoming' : 'outgoing',
    traffic,
    featureGroups: a.groups.slice(0, 3),
    attackType: guessAttackType(a.current),
    model: a.model,
    ...(a.mapping ? { mapping: a.mapping } : {}),
  };
}

/** Feature names by group (for docs and tests). */
export const GROUP_FEATURES = (g: FeatureGroup) => FEATURES.filter((f) => f.group === g).map((f) => f.name);
