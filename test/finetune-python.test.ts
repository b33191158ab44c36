// The Python half of fine-tuning (issue 6): the pytest tests of the detection plugin (python/tests/
// test_detect*.py), the contract between the Python EarlyDetect fixture and the schema, and a short
// `fairseq-train --task netflow_detect --criterion safe` with each of the three architectures, whose JSON
// log lines carry the criterion's metrics and whose checkpoints python/score_detect.py turns into
// non-increasing survival curves.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { validateWithSchema } from '../ts/common/schema.js';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url)); // dist/test/ -> repository root
const venvBin = join(root, '.venv', 'bin');
const python = join(venvBin, 'python');
const env = { OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' };
const W = 32;
const D = 8;

/** The JSON of fairseq's `ts | INFO | <tag> | {json}` lines with that tag. */
function logLines(output: string, tag: string): Record<string, string>[] {
  const marker = `| ${tag} | `;
  return output
    .split('\n')
    .filter((l) => l.includes(marker) && l.trimEnd().endsWith('}'))
    .map((l) => JSON.parse(l.slice(l.indexOf(marker) + marker.length)) as Record<string, string>);
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('fine-tuning, Python side (netflow_detect, safe, score_detect.py)', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;

  before(function () {
    if (!existsSync(python)) throw new Error(`${python} is missing: run \`bash scripts/setup.sh\` first`);
    tmp = tempDir('netflowgen-finetune-py-');
  });
  after(() => tmp?.cleanup());

  it('passes the detection tests of python/tests (test_detect*.py)', async () => {
    const r = await execa(
      python,
      [
        '-m',
        'pytest',
        '-q',
        '-p',
        'no:cacheprovider',
        'python/tests/test_detect_loss.py',
        'python/tests/test_detect_data.py',
        'python/tests/test_detect_models.py',
        'python/tests/test_detect_train.py',
      ],
      {
        cwd: root,
        env,
        reject: false,
        all: true,
      },
    );
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.match(/\d+ passed/);
  });

  it('fine-tunes netflowgen_safe, netflowgen_tf and ms_lstm with fairseq-train and scores them', async () => {
    const made = await execa(
      python,
      [
        'python/tests/detect_fixtures.py',
        tmp.dir,
        '--rows',
        '4',
        '--minutes',
        '2000',
        '--window',
        String(W),
        '--detect',
        String(D),
      ],
      { cwd: root, env },
    );
    const paths = JSON.parse(made.stdout.trim().split('\n').at(-1) ?? '{}') as {
      dataset: string;
      ed: string;
      examples: Record<string, number>;
    };
    // The fixture writes what `netflowgen detect-dataset` writes: the manifest passes its schema.
    const manifest = JSON.parse(readFileSync(join(paths.ed, 'manifest.json'), 'utf8')) as {
      splits: Record<string, { count: number }>;
    };
    validateWithSchema('earlydetect.schema.json', manifest, join(paths.ed, 'manifest.json'));
    const nTest = manifest.splits.test.count;
    expect(nTest).to.equal(paths.examples.test).and.be.greaterThan(10);

    const common = [
      '--optimizer',
      'adam',
      '--lr',
      '3e-3',
      '--seed',
      '1',
      '--log-format',
      'json',
      '--log-interval',
      '2',
      '--num-workers',
      '0',
      '--cpu',
    ];
    const pre = join(tmp.dir, 'pretrain');
    const pretrain = await execa(
      join(venvBin, 'fairseq-train'),
      [
        paths.dataset,
        '--user-dir',
        'fairseq_plugins',
        '--task',
        'netflow_pretrain',
        '--arch',
        'netflowgen_tiny',
        '--criterion',
        'netflow_nll',
        '--batch-size',
        '16',
        '--max-update',
        '30',
        '--save-dir',
        pre,
        '--disable-validation',
        '--no-epoch-checkpoints',
        ...common,
      ],
      { cwd: root, env, reject: false, all: true },
    );
    expect(pretrain.exitCode, pretrain.all?.slice(-3000)).to.equal(0);

    const archs: Record<string, string[]> = {
      netflowgen_safe: ['--arch', 'netflowgen_safe', '--pretrained', join(pre, 'checkpoint_last.pt')],
      netflowgen_tf: [
        '--arch',
        'netflowgen_tf',
        '--decoder-layers',
        '1',
        '--decoder-attention-heads',
        '2',
        '--decoder-embed-dim',
        '32',
        '--decoder-ffn-embed-dim',
        '64',
      ],
      ms_lstm: ['--arch', 'ms_lstm', '--lstm-embed-dim', '16', '--lstm-hidden', '16'],
    };
    // The paper's small setting: train on the valid split, monitor on a held-out share of it.
    const runs = await Promise.all(
      Object.entries(archs).map(([name, args]) =>
        execa(
          join(venvBin, 'fairseq-train'),
          [
            paths.ed,
            '--user-dir',
            'fairseq_plugins',
            '--task',
            'netflow_detect',
            '--criterion',
            'safe',
            ...args,
            '--train-subset',
            'valid',
            '--valid-subset',
            'holdout',
            '--batch-size',
            '8',
            '--max-epoch',
            '2',
            '--patience',
            '3',
            '--save-dir',
            join(tmp.dir, name),
            '--required-batch-size-multiple',
            '1',
            ...common,
          ],
          { cwd: root, env, reject: false, all: true },
        ),
      ),
    );
    for (const [i, name] of Object.keys(archs).entries()) {
      const run = runs[i];
      expect(run.exitCode, `${name}: ${run.all?.slice(-3000)}`).to.equal(0);
      const inner = logLines(run.all ?? '', 'train_inner');
      expect(inner.length, name).to.be.greaterThan(0);
      for (const line of inner) {
        expect(line).to.include.keys('loss', 'acc', 'acc_last', 'num_updates');
        expect(Number(line.loss)).to.be.within(0, 20);
        expect(Number(line.acc)).to.be.within(0, 1);
      }
      const held = logLines(run.all ?? '', 'holdout'); // the validation subset's name is the tag
      expect(held, name).to.have.length(2);
      expect(held[0]).to.include.keys('holdout_loss', 'holdout_acc', 'holdout_acc_last');
      expect(existsSync(join(tmp.dir, name, 'checkpoint_best.pt'))).to.equal(true);
    }

    const scores = await Promise.all(
      Object.keys(archs).map((name) =>
        execa(
          python,
          [
            'python/score_detect.py',
            '--checkpoint',
            join(tmp.dir, name, 'checkpoint_best.pt'),
            '--data',
            paths.ed,
            '--split',
            'test',
            '--out',
            join(tmp.dir, name, 'score'),
          ],
          { cwd: root, env },
        ),
      ),
    );
    for (const [k, name] of Object.keys(archs).entries()) {
      const out = join(tmp.dir, name, 'score');
      const s = scores[k];
      const events = s.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; n?: number });
      expect(events.at(-1)).to.include({ event: 'done', n: nTest });
      const meta = JSON.parse(readFileSync(join(out, 'score.json'), 'utf8')) as Record<string, unknown>;
      expect(meta).to.include({ split: 'test', n: nTest, D, arch: name });
      expect(meta.mean_loss).to.be.a('number');
      const S = readF32(join(out, 'survival.f32'));
      expect(S.length).to.equal(nTest * D);
      for (let i = 0; i < nTest; i++) {
        for (let t = 0; t < D; t++) {
          const v = S[i * D + t];
          if (!(v > 0 && v <= 1) || (t > 0 && v > S[i * D + t - 1]))
            throw new Error(`${name}: example ${i} step ${t}: S = ${v} after ${S[i * D + t - 1]}`);
        }
      }
    }
  });
});
