import type { CommandModule } from 'yargs';
import { INPUT_FORMATS, type InputFormat } from '../ingest/record.js';
import { DEFAULT_MAX_REJECT_SHARE, RejectShareError, serialize } from '../serialize/serialize.js';
import type { SeriesStoreManifest } from '../serialize/store.js';
import { LAYOUT_CHOICES, convertStoreLayout, layoutOf, type LayoutChoice } from '../serialize/layout.js';
import { MAX_DEFAULT_THREADS } from '../serialize/split.js';
import { interruptSignal, FORCE_OPTION, QUIET_OPTION, runCommand } from './util.js';

interface Args {
  input: string[];
  nodes?: string;
  prefix?: string[];
  out: string;
  format?: string;
  from?: string;
  to?: string;
  sampling: number;
  strict: boolean;
  force: boolean;
  spread: boolean;
  'reorder-minutes': number;
  'utc-offset': number;
  'max-reject-share': number;
  'allow-large': boolean;
  threads?: number;
  quiet: boolean;
  layout: LayoutChoice;
}

export const serializeCommand: CommandModule<object, Args> = {
  command: 'serialize',
  describe: 'Aggregate flow records into per-node, per-minute series of the 86 features (a series store)',
  builder: (y) =>
    y
      .option('input', {
        alias: 'i',
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'flow files or directories (nfdump CSV, nfcapd, Argus, CICFlowMeter, NF-v9 CSV; .gz accepted)',
      })
      .option('nodes', {
        alias: 'n',
        type: 'string',
        describe: 'node inventory CSV: prefix,customer[,role] (addresses or CIDR prefixes)',
      })
      .option('prefix', {
        type: 'string',
        array: true,
        describe: 'monitored prefix CIDR[=CUSTOMER] (instead of or besides --nodes)',
      })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'series store folder to write' })
      .option('format', {
        type: 'string',
        choices: [...INPUT_FORMATS],
        describe: 'input format (default: detected per file from its header)',
      })
      .option('from', {
        type: 'string',
        describe:
          'first minute to keep, ISO 8601 UTC (e.g. 2021-09-21T15:00:00Z); default: the bulk of the data (records far outside it are rejected as time_outlier)',
      })
      .option('to', { type: 'string', describe: 'end of the time range, exclusive, ISO 8601 UTC' })
      .option('max-reject-share', {
        type: 'number',
        default: DEFAULT_MAX_REJECT_SHARE,
        describe: 'exit non-zero (after writing the store) when a larger share of the records is rejected',
      })
      .option('allow-large', {
        type: 'boolean',
        default: false,
        describe:
          'without --from/--to, write a store over 4 GiB (otherwise refused: a wrong clock may have stretched the range)',
      })
      .option('sampling', {
        type: 'number',
        default: 1,
        describe: 'packet sampling 1:N; packets, bytes and flows are multiplied by N',
      })
      .option('strict', {
        type: 'boolean',
        default: false,
        describe: 'stop at the first bad record or skipped file instead of counting it',
      })
      .option('force', FORCE_OPTION)
      .option('threads', {
        type: 'number',
        describe: `threads that read and aggregate (default: the available cores, at most ${MAX_DEFAULT_THREADS}); files are spread over them, a large nfdump CSV file is cut into one byte range per thread; the store is the same whatever the number`,
      })
      .option('spread', {
        type: 'boolean',
        default: false,
        describe: "spread long flows' packets and bytes over the minutes they span",
      })
      .option('reorder-minutes', {
        type: 'number',
        default: 60,
        describe:
          'how far a record may lag behind the newest one of its file before it is kept aside (memory: the open window)',
      })
      .option('utc-offset', {
        type: 'number',
        default: 0,
        describe: 'hours to add to the inputs\u2019 naive timestamps to reach UTC',
      })
      .option('quiet', QUIET_OPTION)
      .option('layout', {
        choices: LAYOUT_CHOICES,
        default: 'dense' as LayoutChoice,
        describe:
          'dense: series.f32, float32 nodes x minutes x features (fastest for small stores); zarr: series.zarr, chunked and gzip-compressed (disk grows with traffic; docs/series-store.md)',
      })
      .example('$0 serialize -i flows/ -n nodes.csv -o store', 'all flow files under flows/, nodes from an inventory')
      .example(
        '$0 serialize -i capture.csv --prefix 10.10.10.0/24=victim -o store --strict',
        'one nfdump CSV, one prefix, fail on the first bad line',
      )
      .example(
        '$0 serialize -i nfcapd/ -n nodes.csv -o store --from 2021-09-21T00:00:00Z --to 2021-09-22T00:00:00Z --sampling 1000',
        'one day of sampled nfcapd files',
      ),
  handler: runCommand(async (a) => {
    let shown = 0;
    let m: SeriesStoreManifest;
    let failure: RejectShareError | null = null;
    try {
      m = await serialize({
        inputs: a.input,
        nodes: a.nodes,
        prefixes: a.prefix,
        out: a.out,
        format: a.format as InputFormat | undefined,
        from: a.from,
        to: a.to,
        sampling: a.sampling,
        strict: a.strict,
        force: a.force,
        spreadLongFlows: a.spread,
        reorderMinutes: a['reorder-minutes'],
        utcOffsetHours: a['utc-offset'],
        maxRejectShare: a['max-reject-share'],
        allowLarge: a['allow-large'],
        threads: a.threads,
        signal: interruptSignal(),
        onReject: (ex) => {
          if (a.quiet || shown >= 5) return;
          shown++;
          process.stderr.write(
            `warning: ${ex.file}:${ex.line}: ${ex.reason}${ex.field ? ` in field '${ex.field}'` : ''}: ${ex.detail}\n`,
          );
        },
        onSkip: (s) => {
          if (!a.quiet)
            process.stderr.write(
              `warning: skipped ${s.path}: ${s.reason}: ${s.detail}${s.recordsKept ? ` (${s.recordsKept} records read before the damage were kept)` : ''}\n`,
            );
        },
      });
    } catch (e) {
      if (!(e instanceof RejectShareError)) throw e;
      failure = e;
      m = e.manifest;
    }
    if (a.layout !== 'dense') m = await convertStoreLayout(a.out, layoutOf(a.layout));
    if (!a.quiet || failure) {
      const r = m.records;
      const rej = Object.values(r.rejected).reduce((x, y) => x + y, 0);
      if (rej > shown)
        process.stderr.write(
          `warning: ${rej} records rejected in all (${Object.entries(r.rejected)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}); see the manifest\n`,
        );
      const sk = m.skipped ?? [];
      const skText = sk.length
        ? `; ${sk.length} file(s) skipped (${['unreadable_file', 'not_flow_data']
            .map((k) => [k, sk.filter((s) => s.reason === k).length] as const)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : '';
      process.stdout.write(
        `wrote ${a.out}: ${m.nodes.length} nodes x ${m.minutes} minutes x ${m.features.length} features from ${m.firstMinute}; ${r.read} records read, ${r.used} used, ${r.unmatched} matched no node, ${r.outsideRange} outside --from/--to, ${rej} rejected${skText}\n`,
      );
      const est = Object.entries(r.estimated ?? {}).filter(([, n]) => n > 0);
      if (est.length)
        process.stdout.write(
          `estimated: ${est.map(([k, n]) => `${k.replace('_', ' ')} of ${n} records`).join(', ')} (the files lack the per-direction columns; docs/ingest.md)\n`,
        );
      const inv = m.options.inventory as { entries: number; overlapping: number; nodesInOverlaps: number } | undefined;
      if (inv && inv.overlapping > 0)
        process.stdout.write(
          `inventory: ${inv.entries} entries, ${inv.overlapping} inside another (longest prefix wins), ${inv.nodesInOverlaps} nodes covered by more than one; see options.inventory in the manifest\n`,
        );
    }
    if (failure) throw failure;
  }),
};
