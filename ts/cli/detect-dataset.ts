import type { CommandModule } from 'yargs';
import { ATTACK_TYPES, type AttackType } from '../splits/alerts.js';
import { buildEarlyDetect, DEFAULT_MATCH_FEATURES, NEGATIVES_MODES, type NegativesMode } from '../earlydetect/build.js';
import { formatTable2 } from '../earlydetect/summary.js';
import { interruptSignal, FORCE_OPTION, QUIET_OPTION, DATASET_OPTION, runCommand } from './util.js';

interface Args {
  dataset: string;
  store?: string;
  alerts: string;
  'ground-truth'?: string;
  out: string;
  window?: number;
  detect: number;
  'attack-types': string[];
  'match-feature'?: string[];
  'cusum-k': number;
  'cusum-h': number;
  'cusum-baseline': number;
  'cusum-lookback'?: number;
  'cusum-min-sigma': number;
  ratio: number;
  margin: number;
  negatives: NegativesMode;
  placement: string;
  onset: 'cusum' | 'truth';
  'unseen-examples': number;
  seed: number;
  force: boolean;
  quiet: boolean;
}

function parseMatch(list: string[] | undefined): Partial<Record<AttackType, string>> {
  const out: Partial<Record<AttackType, string>> = {};
  for (const item of list ?? []) {
    const [type, feature] = item.split('=');
    if (!ATTACK_TYPES.includes(type as AttackType) || !feature)
      throw new Error(
        `--match-feature: expected TYPE=feature with TYPE one of ${ATTACK_TYPES.join(', ')}, got '${item}'`,
      );
    out[type as AttackType] = feature;
  }
  return out;
}

export const detectDatasetCommand: CommandModule<object, Args> = {
  command: 'detect-dataset',
  describe:
    'Build the EarlyDetect examples (attack and non-attack windows per alert, CUSUM onsets) from alerts and a binned dataset',
  builder: (y) =>
    y
      .option('dataset', DATASET_OPTION)
      .option('store', {
        alias: 's',
        type: 'string',
        describe: 'series store (default: the one the dataset was made from)',
      })
      .option('alerts', {
        alias: 'a',
        type: 'string',
        demandOption: true,
        describe: 'alert feed, JSON lines (schemas/alerts.schema.json)',
      })
      .option('ground-truth', {
        alias: 'g',
        type: 'string',
        describe: 'synthetic ground truth, JSON lines: spoof lists for the masks, true onsets to score CUSUM',
      })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'EarlyDetect folder to write' })
      .option('window', {
        type: 'number',
        describe: "example length in minutes, history included (default: the dataset's window length)",
      })
      .option('detect', { type: 'number', default: 30, describe: 'detection window: the last minutes of each example' })
      .option('attack-types', {
        type: 'string',
        array: true,
        default: [...ATTACK_TYPES],
        describe: `attack types kept (${ATTACK_TYPES.join(', ')})`,
      })
      .option('match-feature', {
        type: 'string',
        array: true,
        describe: `CUSUM feature per attack type, TYPE=feature (default ${Object.entries(DEFAULT_MATCH_FEATURES)
          .map(([t, f]) => `${t}=${f}`)
          .join(' ')})`,
      })
      .option('cusum-k', { type: 'number', default: 0.5, describe: 'CUSUM drift k, in baseline standard deviations' })
      .option('cusum-h', { type: 'number', default: 5, describe: 'CUSUM threshold h, in baseline standard deviations' })
      .option('cusum-baseline', {
        type: 'number',
        default: 240,
        describe: 'minutes of pre-attack baseline for the mean and deviation',
      })
      .option('cusum-lookback', {
        type: 'number',
        describe: 'the CUSUM scan starts this many minutes before the alert start (default: detect - 1)',
      })
      .option('cusum-min-sigma', { type: 'number', default: 1, describe: 'floor on the baseline deviation (bytes)' })
      .option('ratio', {
        type: 'number',
        default: 0.95,
        describe: 'drop alerts reporting less than this share of the packets or bytes the series shows',
      })
      .option('margin', {
        type: 'number',
        default: 30,
        describe: 'minutes kept clear around what non-attack examples avoid (see --negatives)',
      })
      .option('negatives', {
        type: 'string',
        choices: NEGATIVES_MODES,
        default: 'alerts' as const,
        describe:
          "what non-attack examples avoid: 'alerts' (every alert of the node, as the paper's data allows; an attack that raised no alert may land in one, counted in the manifest with --ground-truth) or 'ground-truth' (alerts and every true attack; needs --ground-truth)",
      })
      .option('placement', {
        type: 'string',
        default: 'random',
        describe:
          "attack window placement: 'random' (seeded, onset anywhere in the detection window) or the onset's fixed step",
      })
      .option('onset', {
        type: 'string',
        choices: ['cusum', 'truth'] as const,
        default: 'cusum' as const,
        describe: 'onset used for labels: CUSUM (as the paper) or the ground truth',
      })
      .option('unseen-examples', {
        type: 'number',
        default: 0,
        describe: 'non-attack examples from unseen rows per validation and test split (paper §7.1)',
      })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the window choices' })
      .option('force', FORCE_OPTION)
      .option('quiet', QUIET_OPTION)
      .example(
        '$0 detect-dataset -d dataset -a alerts.jsonl -o earlydetect',
        'all alert types, CUSUM onsets, 512-minute examples',
      )
      .example(
        '$0 detect-dataset -d dataset -a synth/alerts.jsonl -g synth/ground-truth.jsonl -o ed --attack-types DNS UDP NTP',
        "the paper's three attack types, masks from the spoof lists, onset error reported",
      )
      .example(
        '$0 detect-dataset -d dataset -a alerts.jsonl -o ed --cusum-h 4 --placement 20 --unseen-examples 432',
        'a lower CUSUM threshold, onset at step 20, unseen-node negatives',
      )
      .example(
        '$0 detect-dataset -d dataset -a synth/alerts.jsonl -g synth/ground-truth.jsonl -o ed --negatives ground-truth',
        'non-attack examples clear of every true attack too, not only of the alerts',
      ),
  handler: runCommand(async (a) => {
    const placement = a.placement === 'random' ? 'random' : Number(a.placement);
    const types = a['attack-types'].flatMap((t) => t.split(',')).filter(Boolean);
    for (const t of types)
      if (!ATTACK_TYPES.includes(t as AttackType))
        throw new Error(`--attack-types: unknown type '${t}' (one of ${ATTACK_TYPES.join(', ')})`);
    const m = await buildEarlyDetect({
      dataset: a.dataset,
      store: a.store,
      alerts: a.alerts,
      groundTruth: a['ground-truth'],
      out: a.out,
      windowLength: a.window,
      detectLength: a.detect,
      attackTypes: types as AttackType[],
      matchFeatures: parseMatch(a['match-feature']),
      cusum: {
        k: a['cusum-k'],
        h: a['cusum-h'],
        baseline: a['cusum-baseline'],
        minSigma: a['cusum-min-sigma'],
        ...(a['cusum-lookback'] !== undefined ? { lookback: a['cusum-lookback'] } : {}),
      },
      ratio: a.ratio,
      margin: a.margin,
      negatives: a.negatives,
      placement,
      onset: a.onset,
      unseenExamples: a['unseen-examples'],
      seed: a.seed,
      force: a.force,
      signal: interruptSignal(),
    });
    if (a.quiet) return;
    const dropped = Object.entries(m.dropped)
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${n} ${r}`)
      .join(', ');
    let text = `wrote ${a.out}: ${m.alerts.length} of ${m.alertsRead} alerts kept${dropped ? ` (dropped: ${dropped})` : ''}\n\nTable 2 (EarlyDetect)\n${formatTable2(m.table2, m.selectedAttackTypes as AttackType[])}`;
    const e = m.onsetError;
    const o = m.negativesOverlappingTrueAttacks;
    const od = m.negativesTrueAttackInDetectionWindow;
    text += `\nnon-attack examples avoid ${m.negatives === 'ground-truth' ? 'alerts and true attacks' : 'alerts only'} (--negatives ${m.negatives})`;
    text +=
      o && od
        ? `; overlapping a true attack: ${(['train', 'valid', 'test'] as const).map((s) => `${s} ${o[s]} (${od[s]} in the detection window)`).join(', ')}\n`
        : '\n';
    if (e)
      text += `\nCUSUM onset vs true onset (${e.count} alerts, ${e.noAlarm} without alarm): mean error ${e.meanSigned.toFixed(2)} min, mean |error| ${e.meanAbs.toFixed(2)}, median |error| ${e.medianAbs}, exact ${(100 * e.exact).toFixed(1)}%, within 1 min ${(100 * e.within1).toFixed(1)}%, within 5 min ${(100 * e.within5).toFixed(1)}%\n`;
    process.stdout.write(text);
  }),
};
