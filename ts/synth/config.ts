/**
 * The generator's settings, the presets, and their checks. Everything the output depends on is in
 * SynthConfig (written to OUT/synth.json), so a run can be repeated from that file alone.
 */
import { isoToMinute, minuteToIso } from '../serialize/store.js';
import { MAX_V4_CUSTOMERS } from './address.js';
import { ROLE_NAMES } from './roles.js';
import { ATTACK_TYPES, type AttackType } from '../catalogue/alerts.js';

export { ATTACK_TYPES, type AttackType };

export interface SynthConfig {
  seed: number;
  customers: number;
  nodes: number;
  /** Length of the data in minutes. */
  minutes: number;
  /** First minute, ISO 8601 UTC (a whole minute). */
  start: string;
  /** Number of true attacks. When absent in the options, attackRate x nodes x days. */
  attacks: number;
  /** Roles whose nodes may be attacked (empty: all, weighted by role and size). */
  victimRoles: string[];
  /** Relative mix of the synthetic attack types. */
  attackMix: Record<Exclude<AttackType, 'other'>, number>;
  /** Share of alerts that the defense itself marks as false positives (raised on benign surges). */
  falsePositiveShare: number;
  /** Share of true alerts whose reported packets and bytes are below 95% of the real ones. */
  underReportedShare: number;
  /** Share of attacks that raise no alert at all. */
  missedShare: number;
  /** Share of nodes with an IPv6 address. */
  ipv6Share: number;
  /** Packet sampling 1:N applied to every flow (1 = none). */
  sampling: number;
  /** Multiplies the conversation rates of every role (records scale with it). */
  trafficScale: number;
  /** At most this many flow records per node and minute of normal traffic. */
  maxFlowsPerNodeMinute: number;
  /** At most this many attack flow records per attack and minute (sources beyond it are merged). */
  maxAttackFlowsPerMinute: number;
  /** Minutes per flow file. */
  fileMinutes: number;
  gzip: boolean;
  alertsFormat: 'jsonl' | 'csv';
  /** Shares of the time axis of the train/validation/test splits; attacks are spread over all three. */
  splits: [number, number, number];
  /** Minutes of history an attack should have inside its split before its onset (capped at half the split). */
  history: number;
  /** Real nfdump CSV captures whose attack flows are overlaid onto victims. */
  overlay: string[];
  /** Share of attacks taken from the overlay captures (when there are any). */
  overlayShare: number;
}

export const PRESET_NAMES = ['tiny', 'small', 'paper'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Attacks per node and day of each preset (the paper: ~1,190 usable attacks on 520 nodes over 92 days, 16K raw alerts on 6,975 nodes: about 0.025-0.03). */
const ATTACK_RATE: Record<PresetName, number> = { tiny: 0.2, small: 0.06, paper: 0.029 };

const COMMON: Omit<
  SynthConfig,
  | 'customers'
  | 'nodes'
  | 'minutes'
  | 'attacks'
  | 'trafficScale'
  | 'maxFlowsPerNodeMinute'
  | 'maxAttackFlowsPerMinute'
  | 'fileMinutes'
> = {
  seed: 1,
  start: '2021-09-06T00:00:00Z',
  victimRoles: [],
  attackMix: { DNS: 0.3, NTP: 0.13, UDP: 0.42, SYN: 0.15 },
  falsePositiveShare: 0.08,
  underReportedShare: 0.07,
  missedShare: 0.04,
  ipv6Share: 0.15,
  sampling: 1,
  gzip: false,
  alertsFormat: 'jsonl',
  splits: [0.72, 0.08, 0.2],
  history: 542,
  overlay: [],
  overlayShare: 1,
};

export const PRESETS: Readonly<Record<PresetName, Omit<SynthConfig, 'attacks'>>> = {
  /** The README's demo: 36 nodes of 6 customers over a week, about a million flow records. */
  tiny: {
    ...COMMON,
    customers: 6,
    nodes: 36,
    minutes: 7 * 1440,
    trafficScale: 0.35,
    maxFlowsPerNodeMinute: 24,
    maxAttackFlowsPerMinute: 40,
    fileMinutes: 1440,
  },
  /** A month of 120 nodes of 20 customers. */
  small: {
    ...COMMON,
    customers: 20,
    nodes: 120,
    minutes: 28 * 1440,
    trafficScale: 0.45,
    maxFlowsPerNodeMinute: 60,
    maxAttackFlowsPerMinute: 80,
    fileMinutes: 1440,
    gzip: true,
  },
  /** Shaped like the paper's filtered data: 80 customers, 520 nodes, 132,480 minutes (92 days). A GPU-sized run. */
  paper: {
    ...COMMON,
    customers: 80,
    nodes: 520,
    minutes: 132_480,
    trafficScale: 0.45,
    maxFlowsPerNodeMinute: 60,
    maxAttackFlowsPerMinute: 100,
    fileMinutes: 360,
    gzip: true,
  },
};

export type SynthOverrides = Partial<SynthConfig> & { attackRate?: number };

/** The preset with the user's overrides applied and checked. */
export function resolveConfig(preset: PresetName, overrides: SynthOverrides = {}): SynthConfig {
  const base = PRESETS[preset];
  if (!base) throw new Error(`unknown preset '${preset}' (choose ${PRESET_NAMES.join(', ')})`);
  const { attackRate, ...rest } = overrides;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<SynthConfig>;
  const merged = { ...base, ...defined };
  const rate = attackRate ?? ATTACK_RATE[preset];
  const attacks = defined.attacks ?? Math.round((rate * merged.nodes * merged.minutes) / 1440);
  const cfg: SynthConfig = { ...merged, attacks, attackMix: { ...base.attackMix, ...(defined.attackMix ?? {}) } };
  checkConfig(cfg);
  cfg.start = minuteToIso(isoToMinute(cfg.start));
  return cfg;
}

/** Throws a message naming the setting when a value makes no sense. */
export function checkConfig(c: SynthConfig): void {
  const fail = (name: string, why: string) => {
    throw new Error(`synth: --${name} ${why}`);
  };
  const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < min || v > max) fail(name, `must be an integer in [${min}, ${max}], got ${v}`);
  };
  const share = (name: string, v: number) => {
    if (!(v >= 0 && v <= 1)) fail(name, `must be between 0 and 1, got ${v}`);
  };
  int('seed', c.seed, 0, 0xffffffff);
  int('customers', c.customers, 1, MAX_V4_CUSTOMERS);
  int('nodes', c.nodes, c.customers, 250 * c.customers);
  int('minutes', c.minutes, 60);
  int('attacks', c.attacks, 0);
  int('max-flows', c.maxFlowsPerNodeMinute, 2, 10_000);
  int('max-attack-flows', c.maxAttackFlowsPerMinute, 1, 100_000);
  int('file-minutes', c.fileMinutes, 1);
  int('sampling', c.sampling, 1, 1_000_000);
  int('history', c.history, 0);
  share('fp-share', c.falsePositiveShare);
  if (c.falsePositiveShare >= 0.9) fail('fp-share', 'must be below 0.9');
  share('under-share', c.underReportedShare);
  share('missed-share', c.missedShare);
  share('ipv6-share', c.ipv6Share);
  share('overlay-share', c.overlayShare);
  if (!(c.trafficScale > 0)) fail('traffic-scale', `must be positive, got ${c.trafficScale}`);
  if (
    c.splits.length !== 3 ||
    c.splits.some((s) => !(s >= 0)) ||
    Math.abs(c.splits[0] + c.splits[1] + c.splits[2] - 1) > 1e-6
  )
    fail('splits', `must be three non-negative shares summing to 1, got ${c.splits.join(',')}`);
  for (const [k, v] of Object.entries(c.attackMix))
    if (!(v >= 0)) fail('attack-mix', `weight of ${k} must be >= 0, got ${v}`);
  if (c.attacks > 0 && Object.values(c.attackMix).every((v) => v === 0) && c.overlay.length === 0)
    fail('attack-mix', 'gives every attack type weight 0');
  for (const r of c.victimRoles)
    if (!(ROLE_NAMES as readonly string[]).includes(r))
      fail('victim-roles', `has an unknown role '${r}' (roles: ${ROLE_NAMES.join(', ')})`);
  if (c.alertsFormat !== 'jsonl' && c.alertsFormat !== 'csv')
    fail('alerts-format', `must be jsonl or csv, got ${c.alertsFormat}`);
  if (!Number.isFinite(Date.parse(c.start))) fail('start', `is not an ISO 8601 time: ${c.start}`);
}
