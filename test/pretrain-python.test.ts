// The Python half of pre-training (issue 5): the pytest suite of python/tests, the contract between the
// Python test fixtures and the TypeScript binned-dataset reader, and a one-epoch `fairseq-train` with
// the plugin (fairseq_plugins/) whose JSON log lines carry the criterion's metrics.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { validateWithSchema } from '../ts/common/schema.js';
import { BinnedDataset, DATASET_SCHEMA } from '../ts/datasets/binned.js';
import { fairseqLogLines, PY_ENV, pytestHalf, pythonJson, requirePython, ROOT, VENV_BIN } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';
import { prefetch } from './helpers/prefetch.js';

prefetch('pytest-pretrain'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('pre-training, Python side (fairseq plugin)', function () {
  this.timeout(600_000); // a safety net, not a speed check: the pytest suite alone takes minutes on a busy machine
  const tmp = useTempDir('netflowgen-pretrain-py-');

  before(requirePython);

  it('passes the pre-training pytest suite of python/tests (the detection tests run in finetune-python.test)', async () => {
    const r = await pytestHalf('pretrain'); // --ignore-glob=python/tests/test_detect* python/tests
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.match(/\d+ passed/);
  });

  it('writes test datasets that the TypeScript reader accepts, then trains one epoch with fairseq-train', async () => {
    const data = join(tmp.dir, 'dataset');
    const made = await pythonJson<{ windows: Record<string, number> }>('python/tests/fixtures.py', [
      ...[data, '--features', '86', '--rows', '3', '--minutes', '300', '--window', '16'],
    ]);
    expect(made.windows).to.deep.equal({
      train: 33,
      valid: 9,
      test: 9,
    });

    // The fixture builder and `netflowgen bin` write the same layout: schema and file sizes agree.
    const manifest: unknown = JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8'));
    validateWithSchema(DATASET_SCHEMA, manifest, join(data, 'manifest.json'));
    const ds = BinnedDataset.open(data);
    expect(ds.manifest.features).to.have.length(86);
    expect([...ds.readWindows('valid').subarray(0, 2)]).to.deep.equal([0, 180]);

    const save = join(tmp.dir, 'checkpoints');
    const train = await execa(
      join(VENV_BIN, 'fairseq-train'),
      [
        data,
        ...[
          '--user-dir',
          'fairseq_plugins',
          '--task',
          'netflow_pretrain',
          '--arch',
          'netflowgen_tiny',
          '--criterion',
          'netflow_nll',
        ],
        ...[
          '--optimizer',
          'adam',
          '--adam-betas',
          '(0.9, 0.98)',
          '--lr',
          '5e-4',
          '--lr-scheduler',
          'fixed',
          '--dropout',
          '0.1',
        ],
        ...['--batch-size', '8', '--max-epoch', '1', '--save-dir', save, '--seed', '1'],
        ...['--log-format', 'json', '--log-interval', '1', '--num-workers', '0', '--cpu'],
      ],
      { cwd: ROOT, env: PY_ENV, reject: false, all: true },
    );
    expect(train.exitCode, train.all?.slice(-3000)).to.equal(0);
    const output = train.all ?? '';

    const inner = fairseqLogLines(output, 'train_inner');
    expect(inner).to.have.length(5); // 33 windows in batches of 8
    for (const line of inner) {
      expect(line).to.include.keys(
        'loss',
        'ppl',
        'acc',
        'acc_volume',
        'acc_protocol',
        'acc_port',
        'acc_flag',
        'wps',
        'num_updates',
      );
      const loss = Number(line.loss);
      expect(loss).to.be.within(1, 4); // nats, about log(10) = 2.30 at the start
      expect(Number(line.ppl)).to.be.closeTo(Math.exp(loss), 0.01 * Math.exp(loss)); // ppl = exp(loss), not 2^loss
      expect(Number(line.acc)).to.be.within(0, 1);
    }
    expect(Number(inner[0].wpb)).to.equal(8 * 15); // ntokens = predicted timesteps (8 windows x 15 steps)

    const [valid] = fairseqLogLines(output, 'valid');
    expect(valid).to.include.keys('valid_loss', 'valid_ppl', 'valid_acc', 'valid_acc_volume', 'valid_acc_flag');
    expect(Number(valid.valid_ppl)).to.be.closeTo(Math.exp(Number(valid.valid_loss)), 0.01 * Number(valid.valid_ppl));
    expect(existsSync(join(save, 'checkpoint_last.pt'))).to.equal(true);
    expect(existsSync(join(save, 'checkpoint_best.pt'))).to.equal(true);
  });
});
