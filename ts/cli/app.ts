/**
 * The netflowgen command line as a yargs parser of the given arguments (not yet parsed): main.ts runs it
 * on process.argv, and tests can run it in-process (e.g. every command's --help without a Node start each).
 */
import yargs, { type Argv } from 'yargs';
import { VERSION } from '../common/version.js';
import { withUsageErrors } from './suggest.js';
import { serializeCommand } from './serialize.js';
import { inspectCommand } from './inspect.js';
import { mergeCommand } from './merge.js';
import { synthCommand, synthReportCommand } from './synth.js';
import { binCommand } from './bin.js';
import { detectDatasetCommand } from './detect-dataset.js';
import { baselineCommand } from './baseline.js';
import { simpleDetectCommand } from './simple-detect.js';
import { pretrainCommand } from './pretrain.js';
import { sweepCommand } from './sweep.js';
import { evaluatePretrainCommand } from './evaluate-pretrain.js';
import { finetuneCommand } from './finetune.js';
import { evaluateDetectCommand } from './evaluate-detect.js';
import { generateCommand } from './generate.js';
import { evaluateGenerationCommand } from './evaluate-generation.js';
import { reproduceCommand } from './reproduce.js';
import { reportCommand } from './report.js';
import { alertsConvertCommand } from './alerts.js';
import { watchCommand } from './watch.js';

export function netflowgenCli(args: string[]): Argv {
  return withUsageErrors(yargs(args))
    .scriptName('netflowgen')
    .usage(
      '$0 <command> [options]\n\nGenerative pre-training on NetFlow traffic: ingest, discretize, build datasets, train, evaluate.',
    )
    .command(synthCommand)
    .command(synthReportCommand)
    .command(serializeCommand)
    .command(mergeCommand)
    .command(alertsConvertCommand)
    .command(inspectCommand)
    .command(binCommand)
    .command(detectDatasetCommand)
    .command(baselineCommand)
    .command(pretrainCommand)
    .command(sweepCommand)
    .command(evaluatePretrainCommand)
    .command(finetuneCommand)
    .command(simpleDetectCommand)
    .command(evaluateDetectCommand)
    .command(generateCommand)
    .command(evaluateGenerationCommand)
    .command(reproduceCommand)
    .command(reportCommand)
    .command(watchCommand)
    .demandCommand(1, 'name a command (netflowgen --help lists them)')
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100));
}
