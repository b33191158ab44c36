/**
 * How busy a node is, minute by minute: a multiplier of its average conversation rate.
 *
 *   level = daily(role, local time) x weekly(role, local day) x exp(node noise + customer noise)
 *           x burst x session x (0 during an outage)
 *
 * - daily: a log-cosine around the role's peak hour, exp(depth cos(2 pi (h - peak) / 24)), normalised
 *   to mean 1 over the day (peak/trough = exp(2 depth));
 * - weekly: the role's weekend factor on Saturday and Sunday (local time);
 * - noise: AR(1) in the log, per node (fast, phi 0.9) and per customer (slow, phi 0.995, shared by
 *   the customer's nodes), both with mean-one correction;
 * - bursts: a few per day, minutes long, x2-x8;
 * - sessions (residential): people come and go, a two-state chain; away, the home is nearly silent;
 * - outages: about one every ten days per node, minutes to a few hours of no traffic at all.
 *
 * The state is a small object per node, advanced by `step` with the node's own random stream.
 */
import { ROLE_NAMES, ROLES, type RoleName } from './roles.js';
import type { Rng } from '../common/rng.js';

const NODE_PHI = 0.9;
const NODE_SIGMA = 0.3;
const CUSTOMER_PHI = 0.995;
const CUSTOMER_SIGMA = 0.2;
const BURSTS_PER_DAY = 2;
const OUTAGES_PER_DAY = 0.1;

/** Daily profile of a role, one value per minute of the local day, mean 1. */
export function dailyProfile(peakHour: number, depth: number): Float64Array {
  const p = new Float64Array(1440);
  let sum = 0;
  for (let m = 0; m < 1440; m++) {
    p[m] = Math.exp(depth * Math.cos((2 * Math.PI * (m / 60 - peakHour)) / 24));
    sum += p[m];
  }
  const mean = sum / 1440;
  for (let m = 0; m < 1440; m++) p[m] /= mean;
  return p;
}

const DAILY: Record<RoleName, Float64Array> = Object.fromEntries(
  ROLE_NAMES.map((r) => [r, dailyProfile(ROLES[r].peakHour, ROLES[r].depth)]),
) as Record<RoleName, Float64Array>;

/** The deterministic part of the level: daily x weekly, at an absolute minute (epoch minutes) for a node in time zone tz. */
export function cycleLevel(role: RoleName, epochMinute: number, tzOffsetHours: number): number {
  const local = epochMinute + tzOffsetHours * 60;
  const minuteOfDay = ((local % 1440) + 1440) % 1440;
  // 1970-01-01 was a Thursday: day index 0 = Thursday; Saturday = 2, Sunday = 3.
  const day = ((Math.floor(local / 1440) % 7) + 7) % 7;
  const weekend = day === 2 || day === 3;
  return DAILY[role][minuteOfDay] * (weekend ? ROLES[role].weekend : 1);
}

export interface NodeActivity {
  noise: number;
  burstLeft: number;
  burstMult: number;
  outageLeft: number;
  /** Residential presence: 1 at home, 0 away (always 1 for roles without sessions). */
  present: number;
}

export function initialActivity(rng: Rng, role: RoleName): NodeActivity {
  const s = ROLES[role].sessions;
  return {
    noise: NODE_SIGMA * rng.normal(),
    burstLeft: 0,
    burstMult: 1,
    outageLeft: 0,
    present: s ? (rng.chance(s.on / (s.on + s.off)) ? 1 : 0) : 1,
  };
}

/** One customer-level noise step (shared by the customer's nodes). */
export function stepCustomerNoise(prev: number, rng: Rng): number {
  return CUSTOMER_PHI * prev + CUSTOMER_SIGMA * Math.sqrt(1 - CUSTOMER_PHI * CUSTOMER_PHI) * rng.normal();
}

export function initialCustomerNoise(rng: Rng): number {
  return CUSTOMER_SIGMA * rng.normal();
}

const NOISE_CORRECTION = Math.exp(-(NODE_SIGMA * NODE_SIGMA + CUSTOMER_SIGMA * CUSTOMER_SIGMA) / 2);

/**
 * Advances a node's activity by one minute and returns its level (0 during an outage). `cycle` is
 * cycleLevel() of this minute, `customerNoise` the customer's current noise.
 */
export function stepActivity(a: NodeActivity, role: RoleName, cycle: number, customerNoise: number, rng: Rng): number {
  a.noise = NODE_PHI * a.noise + NODE_SIGMA * Math.sqrt(1 - NODE_PHI * NODE_PHI) * rng.normal();

  if (a.burstLeft > 0) a.burstLeft--;
  else if (rng.chance(BURSTS_PER_DAY / 1440)) {
    a.burstLeft = rng.geometric(1 / 6);
    a.burstMult = Math.min(8, Math.max(2, rng.lognormal(3, 0.4)));
  }

  const s = ROLES[role].sessions;
  if (s) {
    // Leaving takes `on` minutes on average; coming back is likelier when the daily cycle is high.
    if (a.present === 1) {
      if (rng.chance(1 / s.on)) a.present = 0;
    } else if (rng.chance(Math.min(1, cycle / s.off))) a.present = 1;
  }

  // outageLeft counts the outage minutes still to come, this one included.
  if (a.outageLeft === 0 && rng.chance(OUTAGES_PER_DAY / 1440))
    a.outageLeft = Math.max(2, Math.min(240, Math.round(rng.lognormal(15, 1))));
  if (a.outageLeft > 0) {
    a.outageLeft--;
    return 0;
  }
  const burst = a.burstLeft > 0 ? a.burstMult : 1;
  const presence = s ? (a.present ? (s.on + s.off) / s.on : 0.08) : 1;
  return cycle * Math.exp(a.noise + customerNoise) * NOISE_CORRECTION * burst * presence;
}
