import type { Argv, CommandModule } from 'yargs';
import { isoToMinute } from '../serialize/store.js';
import { ModelCallError, ModelDeadError } from '../watch/model.js';
import { watch } from '../watch/watch.js';
import type { InputFormat } from '../ingest/record.js';
import { INPUT_FORMATS } from '../ingest/record.js';
import { interruptSignal, run } from './util.js';

interface Args {
  'flow-dir': string;
  model: string;
  evaluation?: string;
  nodes?: string;
  prefix?: string[];
  format?: string;
  replay: boolean;
  speed: number;
  from?: string;
  to?: string;
  delay: number;
  'stale-exporter': number;
  poll: number;
  cooldown: number;
  'end-after': number;
  alerts?: string;
  state?: string;
  notify?: string;
  detectors: boolean;
  'detector-tau'?: string[];
  device: string;
  threads?: number;
  'call-timeout': number;
  quiet: boolean;
}

/** `static=0.01 ewma-cusum=0.005` -> taus. */
function detectorTaus(list: string[] | undefined): Partial<Record<'static' | 'ewma-cusum', number>> {
  const out: Partial<Record<'static' | 'ewma-cusum', number>> = {};
  for (const item of list ?? []) {
    const m = /^(static|ewma-cusum)=([0-9.eE+-]+)$/.exec(item.trim());
    if (!m || !(Number(m[2]) > 0 && Number(m[2]) <= 1))
      throw new Error(`--detector-tau ${item}: expected static=TAU or ewma-cusum=TAU with 0 < TAU <= 1`);
    out[m[1] as 'static' | 'ewma-cusum'] = Number(m[2]);
  }
  return out;
}

export const watchCommand: CommandModule<object, Args> = {
  command: 'watch <flow-dir>',
  describe:
    "Online early detection: follow a collector directory (nfcapd or nfdump CSV files), score every node's last W minutes with a fine-tuned model each closed minute, and alert below the tau its evaluation chose",
  builder: (y: Argv) =>
    y
      .positional('flow-dir', {
        type: 'string',
        demandOption: true,
        describe: 'collector directory (nfcapd -l DIR; one subfolder per exporter allowed; nfcapd.current.* ignored)',
      })
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'fine-tuning run folder (netflowgen finetune), evaluated by evaluate-detect',
      })
      .option('evaluation', {
        type: 'string',
        describe: "evaluate-detect's results.json (default: RUN/evaluation.json, then RUN/../detection/results.json)",
      })
      .option('nodes', {
        type: 'string',
        describe: "node inventory CSV, as serialize's (default: the dataset's nodes)",
      })
      .option('prefix', { type: 'string', array: true, describe: 'CIDR[=CUSTOMER], as serialize --prefix' })
      .option('format', { type: 'string', choices: INPUT_FORMATS, describe: 'force one input format' })
      .option('replay', {
        type: 'boolean',
        default: false,
        describe: 'read a finished directory as if live, then stop (every minute closed at the end)',
      })
      .option('speed', {
        type: 'number',
        default: 0,
        describe: 'replay: minutes of traffic per minute of wall time (0: as fast as possible)',
      })
      .option('from', { type: 'string', describe: 'replay: first minute to score (ISO 8601, UTC)' })
      .option('to', { type: 'string', describe: 'replay: stop before this minute (ISO 8601, UTC)' })
      .option('delay', {
        type: 'number',
        default: 2,
        describe: 'minutes a minute stays open after the collector moved past it (exporters flush late)',
      })
      .option('stale-exporter', {
        type: 'number',
        default: 15,
        describe: 'an exporter this many minutes behind the newest is not waited for',
      })
      .option('poll', { type: 'number', default: 5, describe: 'live: seconds between directory scans' })
      .option('cooldown', { type: 'number', default: 15, describe: 'minutes after an end before a node alerts again' })
      .option('end-after', {
        type: 'number',
        default: 5,
        describe: 'consecutive minutes at or above tau that end an attack',
      })
      .option('alerts', { type: 'string', describe: 'append alerts (JSON lines) to this file (default: stdout)' })
      .option('state', { type: 'string', describe: 'state file: a restart neither repeats nor loses alerts' })
      .option('notify', {
        type: 'string',
        describe: 'FastNetMon-style script: SCRIPT IP incoming|outgoing PPS ban|unban, the alert as JSON on stdin',
      })
      .option('detectors', {
        type: 'boolean',
        default: false,
        describe: 'run the static threshold and EWMA+CUSUM alongside (alerts with detector static / ewma-cusum)',
      })
      .option('detector-tau', {
        type: 'string',
        array: true,
        describe: 'static=TAU ewma-cusum=TAU (default: their taus in the same evaluation file)',
      })
      .option('device', { type: 'string', default: 'cpu', choices: ['cpu', 'cuda', 'auto'] })
      .option('threads', { type: 'number', describe: 'torch threads (default: all cores)' })
      .option('call-timeout', {
        type: 'number',
        default: 30,
        describe: 'seconds one model call may take before the model process counts as hung',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only errors' })
      .example(
        '$0 watch /var/cache/nfdump --model runs/netflowgen --alerts alerts.jsonl --state watch.state',
        'follow a live collector',
      )
      .example(
        '$0 watch data/synth/flows --model runs/netflowgen --replay --speed 60',
        'replay past data, an hour per minute',
      ),
  handler: (a) =>
    run(async () => {
      const signal = interruptSignal('stopping the watch; the state file holds the last minute');
      const log = a.quiet ? () => {} : (m: string) => process.stderr.write(m + '\n');
      try {
        const s = await watch({
          flowDir: a['flow-dir'],
          run: a.model,
          evaluation: a.evaluation,
          nodes: a.nodes,
          prefixes: a.prefix,
          format: a.format as InputFormat | undefined,
          replay: a.replay,
          speed: a.speed,
          from: a.from !== undefined ? isoToMinute(a.from) : undefined,
          to: a.to !== undefined ? isoToMinute(a.to) : undefined,
          delayMinutes: a.delay,
          staleMinutes: a['stale-exporter'],
          pollMs: a.poll * 1000,
          cooldown: a.cooldown,
          endAfter: a['end-after'],
          alerts: a.alerts,
          state: a.state,
          notifyScript: a.notify,
          detectors: a.detectors,
          detectorTaus: detectorTaus(a['detector-tau']),
          device: a.device,
          threads: a.threads,
          callTimeoutMs: a['call-timeout'] * 1000,
          signal,
          log,
        });
        log(
          `watch: ${s.minutesClosed} minutes closed, ${s.minutesScored} scored (${s.nodeScores} node windows, ${s.modelSeconds.toFixed(1)} s in the model), ${s.alerts} alerts, ${s.errors} errors; tau ${s.tau}; records ${s.records.used} used, ${s.records.late} late, ${s.records.unmatched} of no node`,
        );
      } catch (e) {
        if ((e instanceof ModelDeadError || e instanceof ModelCallError) && e.traceback)
          process.stderr.write(`${e.traceback}\n`);
        throw e;
      }
    }),
};
