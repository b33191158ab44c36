/**
 * `netflowgen synth` (synthetic ISP traffic with DDoS attacks and an alert feed) and
 * `netflowgen synth-report` (figures of the synthetic series beside a real ISP series).
 */
import type { CommandModule } from 'yargs';
import { ATTACK_TYPES, PRESET_NAMES, type PresetName, type SynthOverrides } from '../synth/config.js';
import { synth } from '../synth/synth.js';
import { ROLE_NAMES } from '../synth/roles.js';
import { formatReport, synthReport } from '../synth/report.js';
import { interruptSignal, FORCE_OPTION, numberOptions, QUIET_OPTION, runCommand } from './util.js';

interface SynthArgs {
  out: string;
  preset: string;
  seed?: number;
  customers?: number;
  nodes?: number;
  days?: number;
  minutes?: number;
  start?: string;
  attacks?: number;
  'attack-rate'?: number;
  'attack-mix'?: string;
  'victim-roles'?: string[];
  'fp-share'?: number;
  'under-share'?: number;
  'missed-share'?: number;
  'ipv6-share'?: number;
  sampling?: number;
  'traffic-scale'?: number;
  'max-flows'?: number;
  'max-attack-flows'?: number;
  'file-minutes'?: number;
  gzip?: boolean;
  'alerts-format'?: string;
  splits?: string;
  history?: number;
  'overlay-from'?: string[];
  'overlay-share'?: number;
  force: boolean;
  report: boolean;
  'compare-cesnet'?: string;
  quiet: boolean;
}

/** `DNS=0.3,UDP=0.5` -> { DNS: 0.3, UDP: 0.5 }; names from the synthetic attack types. */
export function parseAttackMix(text: string): Partial<Record<'DNS' | 'NTP' | 'UDP' | 'SYN', number>> {
  const out: Partial<Record<'DNS' | 'NTP' | 'UDP' | 'SYN', number>> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)\s*[=:]\s*([0-9.]+)$/.exec(part);
    const name = m?.[1].toUpperCase();
    if (!m || !name || !['DNS', 'NTP', 'UDP', 'SYN'].includes(name) || !Number.isFinite(Number(m[2]))) {
      throw new Error(
        `--attack-mix: '${part}' is not TYPE=WEIGHT with TYPE one of DNS, NTP, UDP, SYN (e.g. DNS=0.3,UDP=0.5)`,
      );
    }
    out[name as 'DNS'] = Number(m[2]);
  }
  return out;
}

function parseSplits(text: string): [number, number, number] {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x)))
    throw new Error(`--splits: expected three shares such as 0.72,0.08,0.2, got '${text}'`);
  return v as [number, number, number];
}

/** The generator's overrides from the command line (undefined = the preset's value). */
export function overridesFromArgs(a: Partial<SynthArgs>): SynthOverrides {
  if (a.days !== undefined && a.minutes !== undefined) throw new Error('give --days or --minutes, not both');
  return {
    seed: a.seed,
    customers: a.customers,
    nodes: a.nodes,
    minutes: a.days !== undefined ? Math.round(a.days * 1440) : a.minutes,
    start: a.start,
    attacks: a.attacks,
    attackRate: a['attack-rate'],
    victimRoles: a['victim-roles'],
    attackMix: a['attack-mix'] ? (parseAttackMix(a['attack-mix']) as SynthOverrides['attackMix']) : undefined,
    falsePositiveShare: a['fp-share'],
    underReportedShare: a['under-share'],
    missedShare: a['missed-share'],
    ipv6Share: a['ipv6-share'],
    sampling: a.sampling,
    trafficScale: a['traffic-scale'],
    maxFlowsPerNodeMinute: a['max-flows'],
    maxAttackFlowsPerMinute: a['max-attack-flows'],
    fileMinutes: a['file-minutes'],
    gzip: a.gzip,
    alertsFormat: a['alerts-format'] as 'jsonl' | 'csv' | undefined,
    splits: a.splits ? parseSplits(a.splits) : undefined,
    history: a.history,
    overlay: a['overlay-from'],
    overlayShare: a['overlay-share'],
  };
}

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe:
    'Generate synthetic ISP NetFlow (nfdump CSV) with DDoS attacks, a node inventory, an alert feed and its ground truth',
  builder: (y) =>
    y
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'output folder (flows/, nodes.csv, alerts.jsonl, ground-truth.jsonl, synth.json)',
      })
      .option('preset', {
        alias: 'p',
        type: 'string',
        choices: [...PRESET_NAMES],
        default: 'tiny',
        describe:
          'tiny: 36 nodes, 1 week (the demo); small: 120 nodes, 4 weeks; paper: 520 nodes of 80 customers, 132,480 minutes',
      })
      .options(
        numberOptions({
          seed: 'random seed (same seed, same bytes); default 1',
          customers: 'number of customers',
          nodes: 'number of nodes (monitored addresses)',
          days: 'length in days',
          minutes: 'length in minutes (instead of --days)',
        }),
      )
      .option('start', {
        type: 'string',
        describe: 'first minute, ISO 8601 UTC (default 2021-09-06T00:00:00Z, a Monday)',
      })
      .option('attacks', { type: 'number', describe: 'number of attacks (default: --attack-rate x nodes x days)' })
      .option('attack-rate', {
        type: 'number',
        describe: 'attacks per node and day (tiny 0.2, small 0.06, paper 0.029 as in the paper)',
      })
      .option('attack-mix', {
        type: 'string',
        describe: `relative weights of the synthetic attack types, e.g. DNS=0.3,NTP=0.13,UDP=0.42,SYN=0.15 (types: ${ATTACK_TYPES.filter((t) => t !== 'other').join(', ')})`,
      })
      .option('victim-roles', {
        type: 'string',
        array: true,
        describe: `only nodes of these roles are attacked (${ROLE_NAMES.join(', ')}); default: all, weighted (game and web servers most)`,
      })
      .options(
        numberOptions({
          'fp-share': 'share of alerts marked false positive (default 0.08)',
          'under-share': 'share of true alerts reporting < 95% of the real volume (default 0.07)',
          'missed-share': 'share of attacks that raise no alert (default 0.04)',
          'ipv6-share': 'share of nodes with an IPv6 address (default 0.15)',
          sampling: 'packet sampling 1:N of every flow (default 1: none); serialize with --sampling N',
          'traffic-scale': 'multiplies every conversation rate (records grow with it)',
          'max-flows': 'at most this many normal flow records per node and minute',
          'max-attack-flows': 'at most this many flow records per attack and minute',
          'file-minutes': 'minutes per flow file (default 1440: one file a day)',
        }),
      )
      .option('gzip', {
        type: 'boolean',
        describe: 'write flows/*.csv.gz (on for the small and paper presets; --no-gzip turns it off)',
      })
      .option('alerts-format', {
        type: 'string',
        choices: ['jsonl', 'csv'],
        describe: 'alert feed as alerts.jsonl (default) or alerts.csv',
      })
      .option('splits', {
        type: 'string',
        describe:
          'train,validation,test shares of the time axis; attacks are spread over all three (default 0.72,0.08,0.2)',
      })
      .option('history', {
        type: 'number',
        describe: 'minutes of history an attack gets inside its split before its onset (default 542)',
      })
      .option('overlay-from', {
        type: 'string',
        array: true,
        describe: 'real attack captures in nfdump CSV whose flows are re-timed and re-addressed onto victims',
      })
      .option('overlay-share', {
        type: 'number',
        describe: 'share of attacks taken from the overlay captures (default 1)',
      })
      .option('force', FORCE_OPTION)
      .option('report', { type: 'boolean', default: false, describe: 'print the synth-report figures afterwards' })
      .option('compare-cesnet', {
        type: 'string',
        describe: 'with --report: a CESNET-TimeSeries24 folder (<id>.csv + times_1_hour.csv) to compare with',
      })
      .option('quiet', QUIET_OPTION)
      .example('$0 synth -o data/synth', 'the tiny preset (the demo): 36 nodes, one week, seed 1')
      .example(
        '$0 synth -o data/paper --preset paper --seed 7',
        'paper-sized: 520 nodes of 80 customers over 132,480 minutes, gzip',
      )
      .example(
        '$0 synth -o data/s --nodes 60 --days 14 --attack-mix DNS=1,UDP=1 --sampling 100',
        'own sizes, DNS and UDP attacks only, 1:100 packet sampling',
      )
      .example(
        '$0 synth -o data/o --overlay-from captures/amp.dns.RRSIG.fragmented.pcap.flows.csv',
        'attack flows taken from a real capture (nfdump CSV)',
      )
      .example(
        '$0 synth -o data/synth --force --report --compare-cesnet cesnet/',
        'regenerate and compare its series with a real ISP series',
      ),
  handler: runCommand(async (a) => {
    const t0 = Date.now();
    const m = await synth({
      out: a.out,
      preset: a.preset as PresetName,
      force: a.force,
      signal: interruptSignal(),
      ...overridesFromArgs(a),
    });
    const secs = (Date.now() - t0) / 1000;
    if (!a.quiet) {
      const bytes = m.files.reduce((s, f) => s + f.bytes, 0);
      process.stdout.write(
        `wrote ${a.out}: ${m.nodes} nodes of ${m.customers.length} customers, ${m.minutes} minutes from ${m.firstMinute}; ` +
          `${m.records.total.toLocaleString('en-US')} flow records (${m.records.attack.toLocaleString('en-US')} of attacks) in ${m.files.length} files, ${(bytes / 1e6).toFixed(1)} MB; ` +
          `${m.attacks.total} attacks (${m.attacks.missed} without alert${m.attacks.skipped ? `, ${m.attacks.skipped} found no free slot` : ''}), ${m.alerts.total} alerts (${m.alerts.falsePositive} false positives, ${m.alerts.underReported} under-reported); ` +
          `${secs.toFixed(1)} s, ${Math.round(m.records.total / Math.max(secs, 1e-3)).toLocaleString('en-US')} records/s\n`,
      );
    }
    if (a.report)
      process.stdout.write('\n' + formatReport(await synthReport(a.out, { compareCesnet: a['compare-cesnet'] })));
  }),
};

interface ReportArgs {
  dir: string;
  'compare-cesnet'?: string;
  'include-attacks': boolean;
  json: boolean;
}

export const synthReportCommand: CommandModule<object, ReportArgs> = {
  command: 'synth-report <dir>',
  describe:
    'Figures of synthetic series per role (zero minutes, CV, 24-hour autocorrelation, peak hour, weekend ratio), optionally beside a real CESNET series',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'output folder of netflowgen synth' })
      .option('compare-cesnet', {
        type: 'string',
        describe: 'CESNET-TimeSeries24 folder (<id>.csv + times_1_hour.csv) to compare with',
      })
      .option('include-attacks', {
        type: 'boolean',
        default: false,
        describe: 'keep the attack minutes of ground-truth.jsonl in the figures (default: left out)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the figures as JSON' })
      .example('$0 synth-report data/synth', 'figures of the synthetic series')
      .example(
        '$0 synth-report data/synth --compare-cesnet ../shared/data/real/cesnet',
        'beside the real CESNET series',
      ),
  handler: runCommand(async (a) => {
    const r = await synthReport(a.dir, { compareCesnet: a['compare-cesnet'], includeAttacks: a['include-attacks'] });
    process.stdout.write(a.json ? JSON.stringify(r, null, 1) + '\n' : formatReport(r));
  }),
};
