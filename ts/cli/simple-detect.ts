import type { CommandModule } from 'yargs';
import { runSimpleDetector, SIMPLE_DETECTORS, type SimpleDetectorName } from '../baseline/detector-run.js';
import { DEFAULT_EWMA_CUSUM } from '../baseline/detectors.js';
import type { SplitName } from '../splits/splits.js';
import { interruptSignal, FORCE_OPTION, QUIET_OPTION, runCommand } from './util.js';

interface Args {
  earlydetect: string;
  detector: SimpleDetectorName;
  out: string;
  splits?: string[];
  name?: string;
  alpha: number;
  'cusum-k': number;
  'sigma-floor': number;
  freeze: boolean;
  force: boolean;
  quiet: boolean;
}

export const simpleDetectCommand: CommandModule<object, Args> = {
  command: 'simple-detect <earlydetect>',
  describe:
    'Training-free detectors as reference rows (not in the paper): a per-node static threshold on packets/s and bits/s, or EWMA + CUSUM; writes survival curves that evaluate-detect reads like a fine-tuning run',
  builder: (y) =>
    y
      .positional('earlydetect', {
        type: 'string',
        demandOption: true,
        describe: 'EarlyDetect folder (netflowgen detect-dataset)',
      })
      .option('detector', {
        type: 'string',
        choices: SIMPLE_DETECTORS,
        demandOption: true,
        describe:
          "'static': FastNetMon-style threshold at the node's training quantile 1 - tau; 'ewma-cusum': NEMEA-style CUSUM above h = -ln tau",
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'run folder to write (eval/<split>/survival.f32, hazard.f32, score.json; result.json)',
      })
      .option('splits', {
        type: 'string',
        array: true,
        describe: 'splits to score (default: train valid test, those with examples)',
      })
      .option('name', { type: 'string', describe: "name in result.json (default: the folder's name)" })
      .option('alpha', {
        type: 'number',
        default: DEFAULT_EWMA_CUSUM.alpha,
        describe: 'ewma-cusum: EWMA weight of a new minute',
      })
      .option('cusum-k', {
        type: 'number',
        default: DEFAULT_EWMA_CUSUM.k,
        describe: 'ewma-cusum: CUSUM drift in standard deviations',
      })
      .option('sigma-floor', {
        type: 'number',
        default: DEFAULT_EWMA_CUSUM.sigmaFloor,
        describe: 'ewma-cusum: floor on sigma of ln(1 + packets/min)',
      })
      .option('freeze', {
        type: 'boolean',
        default: DEFAULT_EWMA_CUSUM.freeze,
        describe: "ewma-cusum: keep the history's mean and sigma through the detection window instead of updating them",
      })
      .option('force', FORCE_OPTION)
      .option('quiet', QUIET_OPTION)
      .example(
        '$0 simple-detect out/earlydetect --detector static -o runs/static-threshold',
        'per-node quantile thresholds of the training split',
      )
      .example(
        '$0 simple-detect out/earlydetect --detector ewma-cusum -o runs/ewma-cusum',
        'EWMA + CUSUM on ln(1 + packets/min), alpha 0.05, k 0.5',
      )
      .example(
        '$0 evaluate-detect runs/netflowgen runs/static-threshold runs/ewma-cusum',
        'score them beside the fine-tuned models (tau chosen on the train split)',
      ),
  handler: runCommand(async (a) => {
    const splits = a.splits?.flatMap((s) => s.split(',')).filter(Boolean);
    const { result, out } = await runSimpleDetector({
      earlyDetect: a.earlydetect,
      detector: a.detector,
      out: a.out,
      splits: splits as SplitName[] | undefined,
      name: a.name,
      ewmaCusum: { alpha: a.alpha, k: a['cusum-k'], sigmaFloor: a['sigma-floor'], freeze: a.freeze },
      force: a.force,
      signal: interruptSignal(),
    });
    if (a.quiet) return;
    process.stdout.write(`wrote ${out}: ${result.label} (${result.arch}) on ${result.dataset}\n`);
  }),
};
