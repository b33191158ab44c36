// What non-attack examples avoid (detect-dataset --negatives): alerts only (default, as the paper's
// data allows) or the ground truth's true attacks too. Tiny synthetic data with many attacks the
// defense missed (alert_id null in the ground truth), so that some negatives land on one.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildEarlyDetect, type EarlyDetectManifest } from '../ts/earlydetect/build.js';
import { buildChain } from '../ts/reproduce/chain.js';
import { loadPreset, selectTables } from '../ts/reproduce/config.js';
import type { SynthManifest } from '../ts/synth/index.js';
import { makeDetectChain } from './helpers/detect-chain.js';
import { tempDir } from './helpers/tmp.js';

const SPLITS = ['train', 'valid', 'test'] as const;
type Counts = Record<(typeof SPLITS)[number], number>;

describe('earlydetect: negatives avoid alerts only, or the ground truth too', function () {
  this.timeout(60_000);
  const tmp = tempDir('netflowgen-negatives-');
  after(() => tmp.cleanup());
  const p = (n: string) => join(tmp.dir, n);
  const cli = new URL('../ts/cli/main.js', import.meta.url).pathname;
  let sm: SynthManifest;
  let byAlerts: EarlyDetectManifest;
  let byTruth: EarlyDetectManifest;

  /** Examples of a split as [row, start, label, onsetStep, attackType, alert] rows. */
  const examples = (dir: string, s: string): number[][] => {
    const b = readFileSync(join(dir, `${s}.examples.i32`));
    const e = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    return Array.from({ length: e.length / 6 }, (_, i) => [...e.subarray(i * 6, i * 6 + 6)]);
  };

  /** Count from the files alone: negatives whose example (or detection window) overlaps a true attack of their node. */
  const independentCount = (dir: string, detectionWindowOnly = false): Counts => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      dataset: string;
      windowLength: number;
      detectLength: number;
    };
    const ds = JSON.parse(readFileSync(join(m.dataset, 'manifest.json'), 'utf8')) as {
      firstMinute: string;
      nodes: { address: string }[];
    };
    const minute = (iso: string) => Date.parse(iso) / 60_000 - Date.parse(ds.firstMinute) / 60_000;
    const truth = readFileSync(p('synth/ground-truth.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { victim: string; onset: string; end: string });
    const out: Counts = { train: 0, valid: 0, test: 0 };
    for (const s of SPLITS)
      for (const [row, start, label] of examples(dir, s)) {
        if (label !== 0) continue;
        const from = detectionWindowOnly ? start + m.windowLength - m.detectLength : start;
        const to = start + m.windowLength - 1; // inclusive
        if (truth.some((t) => t.victim === ds.nodes[row].address && minute(t.onset) <= to && minute(t.end) >= from))
          out[s]++;
      }
    return out;
  };

  before(async () => {
    // alerts only (the default negatives): the chain's own EarlyDetect dataset
    const options = { nodes: 6, customers: 2, days: 1, attacks: 60, missedShare: 0.6, unseen: 2 };
    ({ synth: sm, manifest: byAlerts } = await makeDetectChain(tmp.dir, options));
    const common = {
      dataset: p('binned'),
      alerts: p('synth/alerts.jsonl'),
      groundTruth: p('synth/ground-truth.jsonl'),
      unseenExamples: 2,
    };
    byTruth = await buildEarlyDetect({ ...common, out: p('ed-truth'), negatives: 'ground-truth' });
  });

  it('the synthetic data has attacks without an alert', () => {
    const missed = readFileSync(p('synth/ground-truth.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .filter((l) => JSON.parse(l).alert_id === null);
    expect(missed.length).to.be.greaterThan(5);
    expect(byAlerts.alerts.length).to.be.greaterThan(5);
    expect(sm.alerts.total).to.be.greaterThan(5);
  });

  it("default 'alerts': some negatives overlap a true attack, and the manifest's counts equal a count from the ground truth file", () => {
    expect(byAlerts.negatives).to.equal('alerts');
    const o = byAlerts.negativesOverlappingTrueAttacks!;
    expect(o).to.deep.equal(independentCount(p('earlydetect')));
    expect(byAlerts.negativesTrueAttackInDetectionWindow).to.deep.equal(independentCount(p('earlydetect'), true));
    expect(o.train + o.valid + o.test).to.be.greaterThan(0);
    // still clear of every alert of the node (30 minutes around), and masks of negatives all zero
    const ds = JSON.parse(readFileSync(p('binned/manifest.json'), 'utf8')) as {
      firstMinute: string;
      nodes: { address: string }[];
    };
    const alerts = readFileSync(p('synth/alerts.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { victim: string; start: string; end: string });
    const minute = (iso: string) => Date.parse(iso) / 60_000 - Date.parse(ds.firstMinute) / 60_000;
    const D = byAlerts.detectLength;
    for (const s of SPLITS) {
      const mask = readFileSync(p(`earlydetect/${s}.mask.u8`));
      examples(p('earlydetect'), s).forEach(([row, start, label], i) => {
        if (label !== 0) return;
        for (const a of alerts.filter((x) => x.victim === ds.nodes[row].address))
          expect(start + 64 <= minute(a.start) - 30 || start >= minute(a.end) + 1 + 30, `${s} example ${i}`).to.equal(
            true,
          );
        expect([...mask.subarray(i * D, (i + 1) * D)].every((x) => x === 0)).to.equal(true);
      });
    }
  });

  it("'ground-truth': no negative overlaps a true attack", () => {
    expect(byTruth.negatives).to.equal('ground-truth');
    expect(byTruth.negativesOverlappingTrueAttacks).to.deep.equal({ train: 0, valid: 0, test: 0 });
    expect(byTruth.negativesTrueAttackInDetectionWindow).to.deep.equal({ train: 0, valid: 0, test: 0 });
    expect(independentCount(p('ed-truth'))).to.deep.equal({ train: 0, valid: 0, test: 0 });
    // the attack examples are the same; only where the negatives lie differs
    expect(byTruth.alerts.map((a) => [a.alert_id, a.attackStart])).to.deep.equal(
      byAlerts.alerts
        .filter((a) => byTruth.alerts.some((b) => b.alert_id === a.alert_id))
        .map((a) => [a.alert_id, a.attackStart]),
    );
  });

  it('the placement stays seeded: the same inputs give the same files', async () => {
    const again = await buildEarlyDetect({
      dataset: p('binned'),
      alerts: p('synth/alerts.jsonl'),
      groundTruth: p('synth/ground-truth.jsonl'),
      unseenExamples: 2,
      out: p('ed-alerts2'),
    });
    for (const s of SPLITS)
      expect(
        readFileSync(p(`ed-alerts2/${s}.examples.i32`)).equals(readFileSync(p(`earlydetect/${s}.examples.i32`))),
      ).to.equal(true);
    expect(again.alerts).to.deep.equal(byAlerts.alerts);
  });

  it('netflowgen detect-dataset --negatives: the flag, its help and its errors', async () => {
    const base = ['detect-dataset', '-d', p('binned'), '-a', p('synth/alerts.jsonl'), '--unseen-examples', '2'];
    const r = await execa(
      'node',
      [cli, ...base, '-g', p('synth/ground-truth.jsonl'), '-o', p('ed-cli'), '--negatives', 'ground-truth'],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.match(
      /non-attack examples avoid alerts and true attacks \(--negatives ground-truth\); overlapping a true attack: train 0/,
    );
    const m = JSON.parse(readFileSync(p('ed-cli/manifest.json'), 'utf8')) as EarlyDetectManifest;
    expect(m.negatives).to.equal('ground-truth');
    for (const s of SPLITS)
      expect(
        readFileSync(p(`ed-cli/${s}.examples.i32`)).equals(readFileSync(p(`ed-truth/${s}.examples.i32`))),
      ).to.equal(true);
    const d = await execa('node', [cli, ...base, '-g', p('synth/ground-truth.jsonl'), '-o', p('ed-cli-default')], {
      reject: false,
    });
    expect(d.exitCode, d.stderr).to.equal(0);
    expect(d.stdout).to.match(/avoid alerts only \(--negatives alerts\)/);
    expect(
      JSON.parse(readFileSync(p('ed-cli-default/manifest.json'), 'utf8')).negativesOverlappingTrueAttacks,
    ).to.deep.equal(byAlerts.negativesOverlappingTrueAttacks);
    const noTruth = await execa('node', [cli, ...base, '-o', p('ed-cli-x'), '--negatives', 'ground-truth'], {
      reject: false,
    });
    expect(noTruth.exitCode).to.equal(1);
    expect(noTruth.stderr).to.match(/--negatives ground-truth needs --ground-truth/);
    const bad = await execa('node', [cli, ...base, '-o', p('ed-cli-y'), '--negatives', 'clean'], { reject: false });
    expect(bad.exitCode).to.not.equal(0);
    expect(bad.stderr).to.match(/--negatives 'clean' is not one of the choices.*choices: alerts, ground-truth/s);
    const help = await execa('node', [cli, 'detect-dataset', '--help'], { reject: false });
    expect(help.stdout).to.match(/--negatives/);
    expect(help.stdout).to.match(/\[choices: "alerts", "ground-truth"\] \[default: "alerts"\]/);
  });

  it("reproduce presets default to 'alerts' and pass the setting to detect-dataset", () => {
    const stage = (set: string[]) => {
      const preset = loadPreset('micro', set);
      const { stages } = buildChain({ preset, tables: selectTables(preset), allTables: selectTables(preset) });
      return { preset, detect: stages.find((s) => s.kind === 'detect-dataset')! };
    };
    const d = stage([]);
    expect(d.preset.data.detect.negatives).to.equal('alerts');
    expect(d.detect.config).to.include({ negatives: 'alerts' });
    const g = stage(['data.detect.negatives=ground-truth']);
    expect(g.detect.config).to.include({ negatives: 'ground-truth' });
    expect(() => loadPreset('micro', ['data.detect.negatives=clean'])).to.throw(/negatives/);
  });
});
