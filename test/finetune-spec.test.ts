// Fine-tuning specs: composition of experiments/finetune/, checks, the rendered fairseq-train command,
// labels, and the validation lines of the holdout subset in the run log. No Python.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import yargs from 'yargs';
import { finetuneCommand } from '../ts/cli/finetune.js';
import { parseSetArgs } from '../ts/config/compose.js';
import {
  calibrationSplit,
  effectiveFeatureSet,
  loadFinetuneSpec,
  modelLabel,
  planFinetuneCommand,
  planRefitCommand,
  pretrainedCheckpoint,
  scoreSplits,
  usesRefit,
  type FinetuneSpec,
} from '../ts/train/finetune-spec.js';
import { launchFinished } from '../ts/train/folder.js';
import { selectedUpdates } from '../ts/train/refit.js';
import { parseLogLine, summarizeRun, type RunRecord } from '../ts/train/log.js';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FT = join(root, 'experiments/finetune');

/** Every argument that follows `flag` in argv (undefined when the flag is absent). */
const arg = (argv: string[], flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);

describe('finetune: specs and the rendered command', () => {
  let tmp: ReturnType<typeof tempDir>;
  let pre: string;
  before(() => {
    tmp = tempDir('netflowgen-ftspec-');
    // a pre-training run folder: its resolved spec says which features the backbone reads
    pre = join(tmp.dir, 'runs', 'pre-light');
    mkdirSync(pre, { recursive: true });
    writeFileSync(
      join(pre, 'spec.resolved.json'),
      JSON.stringify({ name: 'pre-light', dataset: '/data/binned', arch: 'netflowgen_tiny', feature_set: 'light' }),
    );
  });
  after(() => tmp?.cleanup());
  const load = (file: string, values: Record<string, unknown> = {}) =>
    loadFinetuneSpec(join(FT, file), [{ source: 'test', values }], tmp.dir).spec;

  it('every spec of experiments/finetune resolves (the bases alone are incomplete on purpose)', () => {
    const files = ['', 'per-type', 'tiny'].flatMap((d) =>
      readdirSync(join(FT, d))
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(d, f)),
    );
    expect(files.length).to.be.at.least(20);
    for (const f of files) {
      if (/(^|\/)base\.json$/.test(f)) {
        expect(() => load(f), f).to.throw(/missing key 'arch'/);
        continue;
      }
      const spec = load(f);
      expect(spec.dataset.startsWith(tmp.dir), f).to.equal(true);
      expect(spec.eval_splits[0], f).to.equal('test');
    }
  });

  it('composes from the shared bases: model, data size, attack type', () => {
    const ntf = load('tf-moredata.json');
    expect(ntf).to.include({
      name: 'tf-moredata',
      arch: 'netflowgen_tf',
      train_split: 'train',
      valid_split: 'holdout',
      learning_rate: 5e-4,
      batch_size: 16,
    });
    expect(ntf.model).to.deep.equal({ layers: 4, heads: 4, width: 128, ffn: 512 });
    const dns = load('per-type/netflowgen-dns.json');
    expect(dns).to.include({ name: 'netflowgen-dns', arch: 'netflowgen_safe', train_split: 'valid' });
    expect(dns.attack_types).to.deep.equal(['DNS']);
    expect(dns.pretrained).to.equal(join(tmp.dir, 'runs/netflowgen-4-4-128-512'));
    const light = load('netflowgen-light.json');
    expect(light.pretrained).to.equal(join(tmp.dir, 'runs/netflowgen-4-4-128-512-light'));
    const tiny = load('tiny/ms-lstm.json');
    expect(tiny).to.include({ name: 'tiny-ms-lstm', learning_rate: 3e-3, batch_size: 8 });
    expect(tiny.lstm).to.deep.equal({ embed_dim: 32, hidden: 32, layers: 1, scales: [1, 5, 15] });
  });

  it('refuses inconsistent specs, naming the file; hints at misspelt keys', () => {
    expect(() => load('tf.json', { pretrained: 'runs/x' })).to.throw(/'pretrained' is for netflowgen_safe/);
    expect(() => load('ms-lstm.json', { model: { layers: 2 } })).to.throw(
      /'model' \(Transformer sizes\) is for arch netflowgen_tf/,
    );
    expect(() => load('tf.json', { lstm: { hidden: 2 } })).to.throw(/'lstm' is for arch ms_lstm/);
    expect(() => load('tf.json', { precision: 'fp16' })).to.throw(/precision fp16 needs device cuda/);
    expect(load('tf.json', { precision: 'bf16' }).precision).to.equal('bf16'); // bf16 on the CPU is allowed
    expect(() => load('tf.json', { attack_types: ['DSN'] })).to.throw(
      /attack_types\.0 is "DSN", not one of .* \(did you mean 'DNS'\?\)/,
    );
    expect(() => loadFinetuneSpec(join(FT, 'tf.json'), [parseSetArgs(['lr=1e-3'])], tmp.dir)).to.throw(
      /unknown key 'lr' \(did you mean 'learning_rate'\?\)/,
    );
    const f = join(tmp.dir, 'safe.json');
    writeFileSync(
      f,
      JSON.stringify({ extends: join(FT, 'base.json'), arch: 'netflowgen_safe', train_split: 'valid' }, null, 2),
    );
    expect(() => loadFinetuneSpec(f, [], tmp.dir)).to.throw(/safe\.json: arch netflowgen_safe needs 'pretrained'/);
  });

  it('renders netflowgen_safe: the pre-trained checkpoint and its feature set, the holdout subset, the SAFE criterion', () => {
    const spec = load('per-type/netflowgen-dns.json', { pretrained: pre });
    expect(pretrainedCheckpoint(spec)).to.equal(join(pre, 'checkpoint_best.pt'));
    expect(effectiveFeatureSet(spec)).to.equal('light');
    const { argv, lines } = planFinetuneCommand(spec, '/runs/x');
    expect(argv[0]).to.match(/fairseq-train$/);
    expect(argv[1]).to.equal(spec.dataset);
    expect(arg(argv, '--task')).to.equal('netflow_detect');
    expect(arg(argv, '--train-subset')).to.equal('valid');
    expect(arg(argv, '--valid-subset')).to.equal('holdout');
    expect(arg(argv, '--attack-types')).to.equal('DNS');
    expect(arg(argv, '--arch')).to.equal('netflowgen_safe');
    expect(arg(argv, '--pretrained')).to.equal(join(pre, 'checkpoint_best.pt'));
    expect(arg(argv, '--feature-set')).to.equal('light');
    expect(arg(argv, '--criterion')).to.equal('safe');
    expect(arg(argv, '--required-batch-size-multiple')).to.equal('1');
    expect(arg(argv, '--save-dir')).to.equal('/runs/x');
    expect(argv).to.include('--cpu');
    for (const absent of ['--decoder-layers', '--lstm-hidden', '--dropout', '--holdout-share'])
      expect(argv, absent).to.not.include(absent);
    expect(lines).to.include(`--adam-betas '(0.9, 0.98)'`);
  });

  it('renders the baselines: Transformer sizes, LSTM scales, all attack types, a holdout share', () => {
    const tf = planFinetuneCommand(load('tf.json', { holdout_share: 0.25 }), '/r').argv;
    expect([
      arg(tf, '--decoder-layers'),
      arg(tf, '--decoder-attention-heads'),
      arg(tf, '--decoder-embed-dim'),
      arg(tf, '--decoder-ffn-embed-dim'),
    ]).to.deep.equal(['4', '4', '128', '512']);
    expect([arg(tf, '--feature-set'), arg(tf, '--dropout'), arg(tf, '--holdout-share')]).to.deep.equal([
      'full',
      '0.1',
      '0.25',
    ]);
    expect(tf).to.not.include('--attack-types').and.not.include('--pretrained');
    const lstm = planFinetuneCommand(load('ms-lstm-moredata.json', { device: 'cuda', precision: 'bf16' }), '/r').argv;
    expect([
      arg(lstm, '--arch'),
      arg(lstm, '--lstm-scales'),
      arg(lstm, '--lstm-hidden'),
      arg(lstm, '--train-subset'),
    ]).to.deep.equal(['ms_lstm', '1,5,15', '128', 'train']);
    expect(lstm).to.include('--bf16').and.not.include('--cpu');
  });

  it('labels: the spec label, else the model and _MoreData', () => {
    const label = (s: Partial<FinetuneSpec>, fs?: 'full' | 'light') =>
      modelLabel({ arch: 'netflowgen_safe', train_split: 'valid', ...s } as FinetuneSpec, fs);
    expect(label({})).to.equal('NetFlowGen');
    expect(label({}, 'light')).to.equal('NetFlowGen_Light');
    expect(label({ arch: 'netflowgen_tf', train_split: 'train' })).to.equal('TF_MoreData');
    expect(label({ arch: 'ms_lstm' })).to.equal('MS-LSTM');
    expect(label({ arch: 'ms_lstm', label: 'LSTM-x' })).to.equal('LSTM-x');
  });

  it("the run log: validation on the task's holdout subset counts as validation", () => {
    const lines = [
      `2026-11-22 10:53:40 | INFO | holdout | {"epoch": 1, "holdout_loss": "1.8844", "holdout_acc": "0.5", "holdout_acc_last": "0.6875", "holdout_wps": "18725.4", "holdout_num_updates": "9"}`,
      `2026-11-22 10:53:42 | INFO | holdout | {"epoch": 2, "holdout_loss": "1.7", "holdout_acc": "0.75", "holdout_num_updates": "18", "holdout_best_loss": "1.7"}`,
    ];
    const r = parseLogLine(lines[0])!;
    expect(r).to.include({
      event: 'valid',
      subset: 'holdout',
      epoch: 1,
      valid_loss: 1.8844,
      valid_acc_last: 0.6875,
      valid_num_updates: 9,
    });
    const s = summarizeRun(lines.map((l) => parseLogLine(l)!));
    expect(s.best).to.deep.equal({ epoch: 2, updates: 18, loss: 1.7, acc: 0.75 });
    expect(parseLogLine(`2026-11-22 10:53:42 | INFO | fairseq.trainer | {"not": "metrics"}`)).to.equal(undefined);
  });

  it('refit: on by default with the holdout; its command trains the whole split for U* updates without validation', () => {
    const spec = load('tf.json');
    expect(spec).to.include({ refit: true, valid_split: 'holdout' });
    expect(usesRefit(spec)).to.equal(true);
    expect(usesRefit({ ...spec, refit: false })).to.equal(false);
    expect(usesRefit(load('tf.json', { valid_split: 'test' }))).to.equal(false);
    const first = planFinetuneCommand(spec, '/r').argv;
    expect([arg(first, '--valid-subset'), arg(first, '--patience'), arg(first, '--max-update')]).to.deep.equal([
      'holdout',
      '10',
      undefined,
    ]);
    expect(first).to.not.include('--disable-validation');
    const refit = planRefitCommand(load('tf.json', { holdout_share: 0.25, max_update: 500 }), '/r', 37).argv;
    expect(refit).to.include('--disable-validation');
    for (const absent of ['--valid-subset', '--holdout-share', '--patience'])
      expect(refit, absent).to.not.include(absent);
    expect([
      arg(refit, '--max-update'),
      arg(refit, '--max-epoch'),
      arg(refit, '--save-dir'),
      arg(refit, '--train-subset'),
      arg(refit, '--seed'),
      arg(refit, '--batch-size'),
      arg(refit, '--lr'),
    ]).to.deep.equal(['37', '100', '/r/refit', 'valid', '1', '16', '0.0005']);
  });

  it("U*: the updates of fairseq's checkpoint_best.pt, by its rule (a score <= every earlier one; ties to the later save)", () => {
    const save = (updates: number, score: unknown, path = '/r/checkpoint_last.pt'): RunRecord => ({
      event: 'checkpoint',
      path,
      epoch: updates / 5,
      updates,
      score,
    });
    expect(selectedUpdates([save(5, 0.9), save(10, 0.8), save(15, 0.85)])).to.equal(10);
    expect(selectedUpdates([save(5, 0.9), save(10, 0.8), save(15, 0.8)])).to.equal(15); // rounded losses tie: fairseq keeps the later
    expect(selectedUpdates([save(5, 0.7), { event: 'start' }, save(10, 0.8), save(15, 0.7)])).to.equal(15); // across a resume
    expect(selectedUpdates([save(5, 0.7), save(10, Number.NaN), save(15, 0.9)])).to.equal(15); // after a NaN fairseq's min is the next score
    expect(selectedUpdates([save(5, 'None'), save(10, 'None')])).to.equal(undefined); // no validation
    // the real lines, through the log parser
    const lines = [
      '2026-12-01 06:00:01 | INFO | fairseq.checkpoint_utils | Saved checkpoint /r/checkpoint_best.pt (epoch 1 @ 5 updates, score 0.9031) (writing took 0.01 seconds)',
      '2026-12-01 06:00:02 | INFO | fairseq.checkpoint_utils | Saved checkpoint /r/checkpoint_last.pt (epoch 2 @ 10 updates, score 0.95) (writing took 0.01 seconds)',
    ];
    expect(selectedUpdates(lines.map((l) => parseLogLine(l)!))).to.equal(5);
  });

  it('a launch is finished when its run.jsonl has a clean end after its start', () => {
    const end = (exitCode: number | null): RunRecord => ({ event: 'end', exitCode });
    expect(launchFinished([])).to.equal(false);
    expect(launchFinished([{ event: 'start' }, { event: 'train' }])).to.equal(false);
    expect(launchFinished([{ event: 'start' }, end(0)])).to.equal(true);
    expect(launchFinished([{ event: 'start' }, end(1)])).to.equal(false);
    expect(launchFinished([{ event: 'start' }, { event: 'interrupted' }, end(null)])).to.equal(false);
    expect(launchFinished([{ event: 'start' }, end(0), { event: 'start' }])).to.equal(false);
  });

  it('the calibration split: train for the small set, valid for _MoreData, a spec may name another; scored with eval_splits', () => {
    expect(calibrationSplit(load('tf.json'))).to.equal('train');
    expect(calibrationSplit(load('tf-moredata.json'))).to.equal('valid');
    expect(scoreSplits(load('tf.json'))).to.deep.equal(['test', 'valid', 'train']);
    expect(scoreSplits(load('tf-moredata.json'))).to.deep.equal(['test', 'valid']);
    expect(scoreSplits(load('tf.json', { eval_splits: ['test'], calibration_split: 'train' }))).to.deep.equal([
      'test',
      'train',
    ]);
    expect(scoreSplits(load('tf-moredata.json', { eval_splits: ['test', 'train'] }))).to.deep.equal([
      'test',
      'train',
      'valid',
    ]);
    expect(() => load('tf.json', { calibration_split: 'valid' })).to.throw(
      /tf\.json: calibration_split valid is the training split \(train_split\).*choose train/,
    );
    expect(() => load('tf-moredata.json', { calibration_split: 'test' })).to.throw(
      /calibration_split test: the threshold is never chosen on the test split.*choose valid/,
    );
  });

  it('netflowgen finetune --dry-run prints the command, with --pretrained and --set from the command line', async () => {
    const out: string[] = [];
    const w = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await yargs([
        'finetune',
        join(FT, 'netflowgen.json'),
        '--pretrained',
        pre,
        '--dataset',
        join(tmp.dir, 'ed'),
        '--out',
        join(tmp.dir, 'runs'),
        '--set',
        'max_epoch=3',
        '--threads',
        '1',
        '--dry-run',
      ])
        .command(finetuneCommand as never)
        .strict()
        .exitProcess(false)
        .parseAsync();
    } finally {
      process.stdout.write = w;
    }
    const text = out.join('');
    expect(text).to.match(/^PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\\n/);
    expect(text).to.include(`  ${join(tmp.dir, 'ed')} \\\n`);
    expect(text).to.include(`--pretrained ${join(pre, 'checkpoint_best.pt')} \\\n`);
    expect(text).to.include('--max-epoch 3 \\\n');
    expect(text).to.include(`--save-dir ${join(tmp.dir, 'runs', 'netflowgen')} \\\n`);
  });
});
