import type { CommandModule } from 'yargs';
import { generate } from '../generate/generate.js';
import { interruptSignal, runCommand } from './util.js';

interface Args {
  model: string;
  checkpoint?: string;
  dataset?: string;
  store?: string;
  values: boolean;
  nodes?: (string | number)[];
  from: string;
  minutes: number;
  'history-from'?: string;
  temperature: number;
  'top-k': number;
  seed: number;
  cache: boolean;
  keep?: number;
  'batch-size'?: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  out: string;
  force: boolean;
  quiet: boolean;
}

export const generateCommand: CommandModule<object, Args> = {
  command: 'generate',
  describe:
    'Sample per-node, per-minute traffic series from a pre-trained model (incremental decoder, temperature, top-k): bins and a series store of values',
  builder: (y) =>
    y
      .option('model', {
        alias: 'm',
        type: 'string',
        demandOption: true,
        describe: 'run folder of netflowgen pretrain (runs/<name>)',
      })
      .option('checkpoint', { type: 'string', describe: 'checkpoint in the run folder (default checkpoint_best.pt)' })
      .option('dataset', {
        type: 'string',
        describe: "binned dataset (default: the run's): cutoffs, node ids, history",
      })
      .option('store', {
        type: 'string',
        describe:
          "series store whose training values become the generated values (default: the dataset's source store)",
      })
      .option('values', {
        type: 'boolean',
        default: true,
        describe: 'write the series store of values (--no-values: the bins only)',
      })
      .option('nodes', {
        type: 'string',
        array: true,
        describe: 'node addresses or dataset rows (default: every training node)',
      })
      .option('from', {
        type: 'string',
        demandOption: true,
        describe:
          "first generated minute: ISO time (2021-09-21T15:45:00Z) or a minute index on the dataset's time axis",
      })
      .option('minutes', { type: 'number', demandOption: true, describe: 'minutes to generate per node' })
      .option('history-from', {
        type: 'string',
        describe:
          "condition on the real minutes from this time up to --from (at most the model's context); without it: a cold start",
      })
      .option('temperature', { type: 'number', default: 1, describe: 'softmax temperature; 0 = arg-max (greedy)' })
      .option('top-k', {
        type: 'number',
        default: 0,
        describe: 'draw among the k most likely bins of each feature (0: all)',
      })
      .option('seed', { type: 'number', default: 1 })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe:
          'incremental decoding with cached keys and values (--no-cache recomputes the context every minute: same samples, slower)',
      })
      .option('keep', { type: 'number', describe: 'minutes kept when the context is full (default: half the context)' })
      .option('batch-size', { type: 'number', describe: 'nodes sampled together (default 64)' })
      .option('device', { choices: ['auto', 'cpu', 'cuda'] as const, default: 'auto' as const })
      .option('threads', { type: 'number', describe: 'OMP_NUM_THREADS of the sampler' })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'output folder (manifest.json, bins.u8, store/)',
      })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing output folder' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false })
      .example(
        '$0 generate -m runs/tiny --from 2021-09-27T00:00:00Z --history-from 2021-09-26T22:00:00Z --minutes 1440 -o gen',
        'one day of every node after two real hours',
      )
      .example(
        '$0 generate -m runs/tiny --nodes 10.0.0.1 10.0.0.2 --from 5000 --minutes 600 --temperature 0.8 --top-k 3 -o gen',
        'two nodes, cold start, cooler sampling',
      )
      .example('$0 inspect gen/store', 'the generated values, like any series store'),
  handler: runCommand(async (a) => {
    const m = await generate({
      model: a.model,
      checkpoint: a.checkpoint,
      dataset: a.dataset,
      store: a.values ? a.store : false,
      nodes: a.nodes?.map(String),
      from: a.from,
      minutes: a.minutes,
      historyFrom: a['history-from'],
      temperature: a.temperature,
      topK: a['top-k'],
      seed: a.seed,
      cache: a.cache,
      keep: a.keep,
      batchSize: a['batch-size'],
      device: a.device,
      threads: a.threads,
      out: a.out,
      force: a.force,
      signal: interruptSignal(),
      log: a.quiet ? undefined : (s) => process.stderr.write(`${s}\n`),
    });
    if (a.quiet) return;
    const rate = m.timing.nodeMinutesPerSecond;
    process.stdout.write(
      `wrote ${a.out}: ${m.nodes.length} nodes x ${m.minutes} minutes x ${m.features.length} features from ${m.firstMinute}, ` +
        `${m.history.cold ? 'cold start' : `${m.history.minutes} real minutes of history`}; ` +
        `${rate ? Math.round(rate).toLocaleString('en-US') : '?'} node-minutes/s (${m.sampling.cache ? 'cached' : 'no cache'}, ${m.sampling.device})` +
        `${m.files.store ? `; values in ${a.out}/store` : ''}${m.values.fallbacks ? ` (${m.values.fallbacks} drawn uniformly in their bin)` : ''}\n`,
    );
  }),
};
