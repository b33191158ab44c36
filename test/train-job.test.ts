// The one job runner and the settings both kinds of training share: written once in
// schemas/training.schema.json and experiments/templates/optimiser.njk, refused with one message.
// No Python here: the runner's plan and refusal, the schemas and the rendered commands only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { schemaPath } from '../ts/common/paths.js';
import { specHash } from '../ts/config/compose.js';
import { loadFinetuneSpec, planFinetuneCommand } from '../ts/train/finetune-spec.js';
import { LAST_CHECKPOINT, SPEC_FILE } from '../ts/train/folder.js';
import { planJob } from '../ts/train/job.js';
import { planCommand } from '../ts/train/run.js';
import { loadSpec } from '../ts/train/spec.js';
import { useTempDir } from './helpers/tmp.js';

interface Schema {
  properties: Record<string, { $ref?: string; default?: unknown }>;
  definitions: Record<string, { default?: unknown }>;
}
const schema = (name: string) => JSON.parse(readFileSync(schemaPath(name), 'utf8')) as Schema;

/** The settings of training.schema.json: the optimiser, schedule, stopping, seed, logging and device. */
const OPTIMISER_KEYS = [
  'learning_rate',
  'lr_scheduler',
  'warmup_updates',
  'adam_betas',
  'weight_decay',
  'clip_norm',
  'dropout',
  'batch_size',
  'max_epoch',
  'max_update',
  'patience',
  'seed',
  'log_interval',
  'device',
  'precision',
  'fairseq_args',
];

describe('train: the settings pre-training and fine-tuning share, and the one job runner', () => {
  const tmp = useTempDir('netflowgen-job-');

  it('both spec schemas take each shared setting from training.schema.json, restating nothing', () => {
    const shared = schema('training.schema.json').definitions;
    for (const name of ['experiment.schema.json', 'finetune.schema.json']) {
      const props = schema(name).properties;
      for (const k of OPTIMISER_KEYS) {
        expect(k in shared, k).to.equal(true);
        expect(props[k], `${name}: ${k}`).to.include({ $ref: `training.schema.json#/definitions/${k}` });
        // only a description may sit beside the $ref: a type, a bound or a default would be a second copy
        expect(
          Object.keys(props[k]).filter((x) => x !== '$ref' && x !== 'description'),
          `${name}: ${k}`,
        ).to.deep.equal([]);
      }
    }
  });

  it("fills the fragment's defaults into both kinds of resolved spec, as written there", () => {
    const dir = tmp.dir;
    const defaults = Object.fromEntries(
      Object.entries(schema('training.schema.json').definitions)
        .filter(([, d]) => 'default' in d)
        .map(([k, d]) => [k, d.default]),
    );
    // the fragment's defaults, spelt out here as the oracle
    expect(defaults).to.deep.equal({
      lr_scheduler: 'fixed',
      warmup_updates: 0,
      adam_betas: [0.9, 0.98],
      weight_decay: 0,
      clip_norm: 0,
      max_update: 0,
      patience: -1,
      seed: 1,
      log_interval: 10,
      device: 'cpu',
      precision: 'fp32',
      fairseq_args: [],
    });
    const pre = join(dir, 'pre.json');
    writeFileSync(
      pre,
      JSON.stringify({
        dataset: 'd',
        arch: 'netflowgen_tiny',
        learning_rate: 1e-3,
        dropout: 0.1,
        batch_size: 4,
        max_epoch: 1,
      }),
    );
    const ft = join(dir, 'ft.json');
    writeFileSync(
      ft,
      JSON.stringify({ dataset: 'e', arch: 'ms_lstm', learning_rate: 1e-3, batch_size: 4, max_epoch: 1 }),
    );
    const p = loadSpec(pre, [], dir).spec as unknown as Record<string, unknown>;
    const f = loadFinetuneSpec(ft, [], dir).spec as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(defaults)) {
      expect(p[k], `pretrain ${k}`).to.deep.equal(v);
      expect(f[k], `finetune ${k}`).to.deep.equal(v);
    }
  });

  it('renders the shared settings as the same lines in both commands', () => {
    const dir = tmp.dir;
    const settings = {
      learning_rate: 2e-4,
      lr_scheduler: 'inverse_sqrt',
      warmup_updates: 7,
      adam_betas: [0.8, 0.99],
      weight_decay: 0.01,
      clip_norm: 1.5,
      batch_size: 3,
      max_epoch: 9,
      max_update: 11,
      patience: 2,
      seed: 5,
      log_interval: 4,
      precision: 'bf16',
    };
    const pre = join(dir, 'pre2.json');
    writeFileSync(pre, JSON.stringify({ dataset: 'd', arch: 'netflowgen_tiny', dropout: 0.1, ...settings }));
    const ft = join(dir, 'ft2.json');
    writeFileSync(ft, JSON.stringify({ dataset: 'e', arch: 'ms_lstm', ...settings }));
    const p = planCommand(loadSpec(pre, [], dir).spec, '/runs/x').lines;
    const f = planFinetuneCommand(loadFinetuneSpec(ft, [], dir).spec, '/runs/x').lines;
    // the lines from --optimizer to the precision flag, fine-tuning's exact batches left out
    const block = (lines: string[]) =>
      lines
        .slice(lines.indexOf('--optimizer adam'), lines.indexOf('--bf16') + 1)
        .filter((l) => !/batch-size-multiple/.test(l));
    expect(block(p)).to.deep.equal([
      '--optimizer adam',
      "--adam-betas '(0.8, 0.99)'",
      '--weight-decay 0.01',
      '--clip-norm 1.5',
      '--lr 0.0002',
      '--lr-scheduler inverse_sqrt',
      '--warmup-updates 7',
      '--batch-size 3',
      '--max-epoch 9',
      '--max-update 11',
      '--patience 2',
      '--seed 5',
      '--save-dir /runs/x',
      '--no-epoch-checkpoints',
      '--log-format json',
      '--log-interval 4',
      '--num-workers 0',
      '--cpu',
      '--bf16',
    ]);
    expect(block(f)).to.deep.equal(block(p));
    expect(f).to.include('--required-batch-size-multiple 1');
    expect(p.some((l) => /batch-size-multiple/.test(l))).to.equal(false);
  });

  it('refuses a folder of another spec with one message for both kinds, naming the keys that differ', () => {
    const dir = join(tmp.dir, 'run');
    mkdirSync(dir);
    const spec = { name: 'a', learning_rate: 1e-3, seed: 1 };
    const before = { ...spec, learning_rate: 5e-4, seed: 2 };
    writeFileSync(join(dir, SPEC_FILE), JSON.stringify({ ...before, hash: specHash(before) }));
    writeFileSync(join(dir, LAST_CHECKPOINT), '');
    const message = `${dir}: it holds a run of a different spec (differs in learning_rate, seed); pass --force to start it over, or choose another --out`;
    expect(() => planJob(dir, spec, specHash(spec), {})).to.throw(message);
    expect(planJob(dir, spec, specHash(spec), { force: true })).to.deep.equal({
      action: 'restart',
      reason: 'forced; the spec changed',
    });
    // the same spec resumes from its checkpoint
    expect(planJob(dir, before, specHash(before), {})).to.deep.equal({ action: 'resume' });
  });
});
