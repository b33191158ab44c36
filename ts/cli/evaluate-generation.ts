import type { CommandModule } from 'yargs';
import { evaluateGeneration, generationTable } from '../generate/evaluate.js';
import { interruptSignal, runCommand } from './util.js';

interface Args {
  models: string[];
  out: string;
  dataset?: string;
  nodes?: (string | number)[];
  'max-nodes': number;
  split: 'valid' | 'test';
  from?: string;
  minutes?: number;
  history?: number;
  temperature: number;
  'top-k': number;
  seed: number;
  cache: boolean;
  'batch-size'?: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  'plot-nodes': number;
  'plot-feature'?: string;
  'plot-minutes': number;
  force: boolean;
}

export const evaluateGenerationCommand: CommandModule<object, Args> = {
  command: 'evaluate-generation <models..>',
  describe:
    "How real a model's samples are: JSD of bin distributions, autocorrelation and correlation errors, equal bins; against bigram samples, seasonal resampling and the real-vs-real floor",
  builder: (y) =>
    y
      .positional('models', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'run folders of netflowgen pretrain (one row each)',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'output folder (generation.json, generation.md, samples/)',
      })
      .option('dataset', { type: 'string', describe: "binned dataset (default: the first model's)" })
      .option('nodes', {
        type: 'string',
        array: true,
        describe: 'node addresses or rows (default: the first --max-nodes training nodes)',
      })
      .option('max-nodes', { type: 'number', default: 64 })
      .option('split', {
        choices: ['valid', 'test'] as const,
        default: 'test' as const,
        describe: 'split generated when --from is not given',
      })
      .option('from', { type: 'string', describe: 'first minute of the span (ISO or dataset index)' })
      .option('minutes', {
        type: 'number',
        describe: 'length of the span (made even; whole days per half from two days on)',
      })
      .option('history', {
        type: 'number',
        describe: 'real minutes before the span a model reads (default: its whole context)',
      })
      .option('temperature', { type: 'number', default: 1 })
      .option('top-k', { type: 'number', default: 0 })
      .option('seed', { type: 'number', default: 1 })
      .option('cache', { type: 'boolean', default: true })
      .option('batch-size', { type: 'number' })
      .option('device', { choices: ['auto', 'cpu', 'cuda'] as const, default: 'auto' as const })
      .option('threads', { type: 'number' })
      .option('plot-nodes', {
        type: 'number',
        default: 3,
        describe: 'nodes whose real and generated series go into generation.json',
      })
      .option('plot-feature', { type: 'string', describe: 'feature of those series (default in.byt)' })
      .option('plot-minutes', { type: 'number', default: 1440 })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'sample again even when OUT/samples holds samples of the same request',
      })
      .example('$0 evaluate-generation runs/tiny -o out/generation', 'the test split of every training node (up to 64)')
      .example('$0 evaluate-generation out/tiny/runs/table10/* -o gen --max-nodes 16', 'several models in one table'),
  handler: runCommand(async (a) => {
    const { result, files } = await evaluateGeneration({
      models: a.models,
      out: a.out,
      dataset: a.dataset,
      nodes: a.nodes?.map(String),
      maxNodes: a['max-nodes'],
      split: a.split,
      from: a.from,
      minutes: a.minutes,
      history: a.history,
      temperature: a.temperature,
      topK: a['top-k'],
      seed: a.seed,
      cache: a.cache,
      batchSize: a['batch-size'],
      device: a.device,
      threads: a.threads,
      plot: { nodes: a['plot-nodes'], feature: a['plot-feature'], minutes: a['plot-minutes'] },
      force: a.force,
      signal: interruptSignal(),
    });
    process.stdout.write(`${generationTable(result)}\nwrote ${files.md} and ${files.json}\n`);
  }),
};
