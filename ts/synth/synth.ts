/**
 * `netflowgen synth`: the thin shell around the generator. Streams the flows to files minute by
 * minute (memory does not grow with the number of records), then writes the inventory, the alert
 * feed, the ground truth and synth.json, all inside one atomic folder: an interrupted run leaves
 * nothing that looks complete.
 *
 *   OUT/flows/flows-YYYYMMDD-hhmm.csv[.gz]  nfdump 1.7 CSV, one file per cfg.fileMinutes, UTC times
 *   OUT/nodes.csv                            prefix,customer,role
 *   OUT/alerts.jsonl (or alerts.csv)         schemas/alerts.schema.json
 *   OUT/ground-truth.jsonl                   schemas/ground-truth.schema.json
 *   OUT/synth.json                           the configuration, seed and counts (enough to redo the run)
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import { withAtomicDir } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { minuteToIso } from '../serialize/store.js';
import { alertsCsv } from './alerts.js';
import { resolveConfig, type PresetName, type SynthConfig, type SynthOverrides } from './config.js';
import { Generator } from './generate.js';
import { inventoryCsv } from './inventory.js';
import { NFDUMP_HEADER, NfdumpCsvEncoder } from './nfdump.js';
import { loadTemplate } from './overlay.js';
import { ROLE_NAMES } from './roles.js';

export interface SynthOptions extends SynthOverrides {
  out: string;
  preset?: PresetName;
  force?: boolean;
  signal?: AbortSignal;
  /** Show a progress bar on a terminal (default true; it stays silent in pipes and CI anyway). */
  progress?: boolean;
}

export interface SynthFile {
  path: string;
  records: number;
  bytes: number;
}

/** What synth.json holds. */
export interface SynthManifest {
  kind: 'netflowgen.synth';
  version: string;
  preset: PresetName;
  config: SynthConfig;
  firstMinute: string;
  minutes: number;
  records: { normal: number; attack: number; total: number };
  files: SynthFile[];
  nodes: number;
  roles: Record<string, number>;
  customers: { id: string; kind: string; tzOffset: number; nodes: number }[];
  alerts: { total: number; falsePositive: number; underReported: number };
  attacks: {
    total: number;
    missed: number;
    skipped: number;
    list: {
      alert_id: string | null;
      victim: string;
      type: string;
      template: string | null;
      onset: string;
      duration: number;
      ramp: number;
      multiple: number;
      peakBytesPerMinute: number;
      sources: number;
      pulse: number;
      alert: string;
    }[];
  };
  surges: { victim: string; start: string; duration: number; factor: number }[];
}

export const FLOWS_DIR = 'flows';
/** The manifest of a synth output folder (SynthManifest). */
export const SYNTH_MANIFEST = 'synth.json';

export async function synth(opts: SynthOptions): Promise<SynthManifest> {
  const { out, force, signal, progress: showProgress, preset = 'tiny', ...overrides } = opts;
  const cfg = resolveConfig(preset, overrides);
  const templates = await Promise.all(cfg.overlay.map((f) => loadTemplate(f)));
  const gen = new Generator(cfg, templates);

  return withAtomicDir(
    out,
    async (tmp) => {
      await fsp.mkdir(join(tmp, FLOWS_DIR));
      const files: SynthFile[] = [];
      const enc = new NfdumpCsvEncoder();
      const bar =
        showProgress === false
          ? null
          : createProgress('synth', cfg.minutes, '{bar} {percentage}% | {records} records | ETA {eta_formatted}');
      let writer: FlowFileWriter | null = null;
      try {
        for (let m = 0; m < cfg.minutes; m++) {
          if (m % cfg.fileMinutes === 0) {
            if (writer) files.push(await writer.close());
            const name = `flows-${minuteToIso(gen.startMinute + m)
              .replace(/[-:]/g, '')
              .replace('T', '-')
              .slice(0, 13)}.csv${cfg.gzip ? '.gz' : ''}`;
            writer = new FlowFileWriter(join(tmp, FLOWS_DIR, name), `${FLOWS_DIR}/${name}`, cfg.gzip);
            enc.text(NFDUMP_HEADER + '\n');
          }
          if (signal?.aborted) throw abortError();
          const buf = gen.minute();
          buf.encode(enc, (gen.startMinute + m) * 60_000);
          writer!.records += buf.n;
          if (enc.length >= 1 << 22 || (m + 1) % cfg.fileMinutes === 0 || m + 1 === cfg.minutes)
            await writer!.write(enc.take());
          if (bar && m % 60 === 0) bar.update(m, { records: gen.normalRecords + gen.attackRecords });
        }
        if (writer) files.push(await writer.close());
        writer = null;
        bar?.update(cfg.minutes, { records: gen.normalRecords + gen.attackRecords });
      } finally {
        bar?.stop();
        writer?.destroy();
      }

      const { alerts, groundTruth } = gen.feeds();
      const inv = gen.inventory;
      await fsp.writeFile(join(tmp, 'nodes.csv'), inventoryCsv(inv));
      if (cfg.alertsFormat === 'csv') await fsp.writeFile(join(tmp, 'alerts.csv'), alertsCsv(alerts));
      else
        await fsp.writeFile(
          join(tmp, 'alerts.jsonl'),
          alerts.map((a) => JSON.stringify(a)).join('\n') + (alerts.length ? '\n' : ''),
        );
      await fsp.writeFile(
        join(tmp, 'ground-truth.jsonl'),
        groundTruth.map((g) => JSON.stringify(g)).join('\n') + (groundTruth.length ? '\n' : ''),
      );

      const plan = gen.plan;
      const manifest: SynthManifest = {
        kind: 'netflowgen.synth',
        version: VERSION,
        preset,
        config: cfg,
        firstMinute: minuteToIso(gen.startMinute),
        minutes: cfg.minutes,
        records: { normal: gen.normalRecords, attack: gen.attackRecords, total: gen.normalRecords + gen.attackRecords },
        files,
        nodes: inv.nodes.length,
        roles: Object.fromEntries(ROLE_NAMES.map((r) => [r, inv.nodes.filter((n) => n.role === r).length])),
        customers: inv.customers.map((c) => ({ id: c.id, kind: c.kind, tzOffset: c.tzOffset, nodes: c.nodes.length })),
        alerts: {
          total: alerts.length,
          falsePositive: alerts.filter((a) => a.false_positive).length,
          underReported: plan.attacks.filter((a) => a.alert === 'under').length,
        },
        attacks: {
          total: plan.attacks.length,
          missed: plan.attacks.filter((a) => a.alert === 'missed').length,
          skipped: plan.skipped,
          list: plan.attacks.map((a, k) => ({
            alert_id: groundTruth[k].alert_id,
            victim: inv.nodes[a.victim].address,
            type: a.type,
            template: a.template >= 0 ? templates[a.template].file : null,
            onset: minuteToIso(gen.startMinute + a.onset),
            duration: a.duration,
            ramp: a.ramp,
            multiple: round3(a.multiple),
            peakBytesPerMinute: Math.round(a.peakBytes),
            sources: a.sources,
            pulse: a.pulse,
            alert: a.alert,
          })),
        },
        surges: plan.crowds.map((c) => ({
          victim: inv.nodes[c.victim].address,
          start: minuteToIso(gen.startMinute + c.start),
          duration: c.duration,
          factor: round3(c.factor),
        })),
      };
      await fsp.writeFile(join(tmp, SYNTH_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
      return manifest;
    },
    { overwrite: force, inputs: cfg.overlay },
  );
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function abortError(): Error {
  const e = new Error('interrupted: no output was kept');
  e.name = 'AbortError';
  return e;
}

/** One flow file: chunks of encoded lines, optional gzip, honouring back-pressure. */
class FlowFileWriter {
  private readonly file: WriteStream;
  private readonly gzip: Gzip | null;
  records = 0;

  constructor(
    path: string,
    private readonly name: string,
    gzip: boolean,
  ) {
    this.file = createWriteStream(path);
    this.gzip = gzip ? createGzip({ level: 1 }) : null;
    if (this.gzip) this.gzip.pipe(this.file);
  }

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    const target = this.gzip ?? this.file;
    if (!target.write(chunk)) await once(target, 'drain');
  }

  async close(): Promise<SynthFile> {
    const done = once(this.file, 'close');
    (this.gzip ?? this.file).end();
    await done;
    return { path: this.name, records: this.records, bytes: this.file.bytesWritten };
  }

  destroy(): void {
    this.gzip?.destroy();
    this.file.destroy();
  }
}
