import { expect } from 'chai';
import { lastPythonError, parseLogLine, summarizeRun, validMetrics, type RunRecord } from '../ts/train/log.js';
import { planRun } from '../ts/train/folder.js';
import {
  bigramMetrics,
  markdownTable,
  scoreMetrics,
  table10Markdown,
  table10Row,
  table4Markdown,
  table4Row,
} from '../ts/train/tables.js';

// Recorded from `netflowgen pretrain` of the tiny spec (fairseq 0.12.2, --log-format json): an attempt
// interrupted after epoch 1, then resumed.
const ATTEMPT1 = [
  `2026-11-22 10:06:35 | INFO | fairseq_cli.train | {'_name': None, 'common': {'_name': None, 'no_progress_bar': False, 'log_interval': 5, 'log_format': 'json'}}`,
  `2026-11-22 10:06:35 | INFO | fairseq_cli.train | NetflowGenModel(`,
  `  (decoder): NetflowGenDecoder(`,
  `2026-11-22 10:06:35 | INFO | fairseq_cli.train | num. shared model params: 25,212 (num. trained: 25,212)`,
  `2026-11-22 10:06:35 | INFO | fairseq.trainer | No existing checkpoint found /tmp/tinyrun2/checkpoint_last.pt`,
  `2026-11-22 10:06:37 | INFO | fairseq.data.iterators | grouped total_num_itrs = 23`,
  `2026-11-22 10:06:37 | INFO | fairseq.trainer | begin training epoch 1`,
  `/work/main/.venv/lib/python3.11/site-packages/torch/utils/data/dataloader.py:759: UserWarning: 'pin_memory' argument is set as true but no accelerator is found, then device pinned memory won't be used.`,
  `2026-11-22 10:06:37 | INFO | train_inner | {"epoch": 1, "update": 0.217, "loss": "2.1439", "ppl": "8.5326", "acc": "0.227", "acc_volume": "0.227", "wps": "13164.4", "ups": "52.98", "wpb": "248", "bsz": "8", "num_updates": "5", "lr": "0.003", "gnorm": "1.343", "train_wall": "0", "wall": "2"}`,
  `2026-11-22 10:06:37 | INFO | valid | {"epoch": 1, "valid_loss": "1.0108", "valid_ppl": "2.7479", "valid_acc": "0.5013", "valid_acc_volume": "0.5013", "valid_wps": "105332", "valid_wpb": "206.7", "valid_bsz": "6.7", "valid_num_updates": "23"}`,
  `2026-11-22 10:06:37 | INFO | fairseq.checkpoint_utils | Saved checkpoint /tmp/tinyrun2/checkpoint_best.pt (epoch 1 @ 23 updates, score 1.0108) (writing took 0.010097377999954915 seconds)`,
  `2026-11-22 10:06:37 | INFO | train | {"epoch": 1, "train_loss": "1.5201", "train_ppl": "4.5726", "train_acc": "0.4338", "train_acc_volume": "0.4338", "train_wps": "14845.5", "train_ups": "61.23", "train_wpb": "242.6", "train_bsz": "7.8", "train_num_updates": "23", "train_lr": "0.003", "train_gnorm": "0.714", "train_train_wall": "0", "train_wall": "2"}`,
];
const ATTEMPT2 = [
  `2026-11-22 10:06:47 | INFO | fairseq.trainer | Loaded checkpoint /tmp/tinyrun2/checkpoint_last.pt (epoch 2 @ 23 updates)`,
  `2026-11-22 10:06:48 | INFO | valid | {"epoch": 2, "valid_loss": "0.1584", "valid_ppl": "1.1717", "valid_acc": "0.9973", "valid_acc_volume": "0.9973", "valid_wps": "26907.7", "valid_wpb": "206.7", "valid_bsz": "6.7", "valid_num_updates": "46", "valid_best_loss": "0.1584"}`,
  `2026-11-22 10:06:48 | INFO | train | {"epoch": 2, "train_loss": "0.5639", "train_ppl": "1.7574", "train_num_updates": "46"}`,
  `2026-11-22 10:06:48 | INFO | valid | {"epoch": 3, "valid_loss": "0.2001", "valid_ppl": "1.2215", "valid_acc": "0.98", "valid_acc_volume": "0.98", "valid_num_updates": "69", "valid_best_loss": "0.1584"}`,
  `2026-11-22 10:06:48 | INFO | train | {"epoch": 3, "train_loss": "0.0836", "train_num_updates": "69"}`,
  `2026-11-22 10:06:48 | INFO | fairseq_cli.train | early stop since valid performance hasn't improved for last 1 runs`,
  `2026-11-22 10:06:48 | INFO | fairseq_cli.train | done training in 1.2 seconds`,
];

describe('train: fairseq log lines', () => {
  it('parses metric lines, numbers from strings', () => {
    const r = parseLogLine(ATTEMPT1[8]);
    expect(r).to.deep.equal({
      event: 'train_inner',
      time: '2026-11-22 10:06:37',
      epoch: 1,
      update: 0.217,
      loss: 2.1439,
      ppl: 8.5326,
      acc: 0.227,
      acc_volume: 0.227,
      wps: 13164.4,
      ups: 52.98,
      wpb: 248,
      bsz: 8,
      num_updates: 5,
      lr: 0.003,
      gnorm: 1.343,
      train_wall: 0,
      wall: 2,
    });
    expect(parseLogLine(ATTEMPT1[9])).to.include({
      event: 'valid',
      epoch: 1,
      valid_loss: 1.0108,
      valid_acc: 0.5013,
      valid_num_updates: 23,
    });
    expect(
      parseLogLine(
        `2024-01-01 00:00:00 | INFO | valid | {"epoch": 1, "valid_loss": "inf", "valid_ppl": "-inf", "valid_x": "n/a"}`,
      ),
    ).to.include({ valid_loss: Infinity, valid_ppl: -Infinity, valid_x: 'n/a' });
  });

  it('parses the plain-text lines that matter', () => {
    expect(parseLogLine(ATTEMPT1[3])).to.deep.equal({
      event: 'params',
      time: '2026-11-22 10:06:35',
      total: 25212,
      trained: 25212,
    });
    expect(parseLogLine(ATTEMPT1[4])).to.deep.equal({
      event: 'no_checkpoint',
      time: '2026-11-22 10:06:35',
      path: '/tmp/tinyrun2/checkpoint_last.pt',
    });
    expect(parseLogLine(ATTEMPT1[5])).to.deep.equal({ event: 'epoch_size', time: '2026-11-22 10:06:37', updates: 23 });
    expect(parseLogLine(ATTEMPT1[6])).to.deep.equal({ event: 'epoch_start', time: '2026-11-22 10:06:37', epoch: 1 });
    expect(parseLogLine(ATTEMPT1[10])).to.deep.equal({
      event: 'checkpoint',
      time: '2026-11-22 10:06:37',
      path: '/tmp/tinyrun2/checkpoint_best.pt',
      epoch: 1,
      updates: 23,
      score: 1.0108,
    });
    expect(parseLogLine(ATTEMPT2[0])).to.deep.equal({
      event: 'checkpoint_loaded',
      time: '2026-11-22 10:06:47',
      path: '/tmp/tinyrun2/checkpoint_last.pt',
      epoch: 2,
      updates: 23,
    });
    expect(parseLogLine(ATTEMPT2[5])).to.deep.equal({ event: 'early_stop', time: '2026-11-22 10:06:48', patience: 1 });
    expect(parseLogLine(ATTEMPT2[6])).to.deep.equal({ event: 'done', time: '2026-11-22 10:06:48', seconds: 1.2 });
    expect(
      parseLogLine(
        `2026-11-22 10:01:58 | INFO | fairseq_cli.train | Stopping training due to num_updates: 6 >= max_update: 6`,
      ),
    ).to.deep.equal({ event: 'stop', time: '2026-11-22 10:01:58', reason: 'num_updates: 6 >= max_update: 6' });
    expect(parseLogLine(`2026-11-22 10:01:58 | WARNING | fairseq.trainer | NaN detected`)).to.deep.equal({
      event: 'warning',
      time: '2026-11-22 10:01:58',
      source: 'fairseq.trainer',
      message: 'NaN detected',
    });
  });

  it('skips the config dump, the model printout and library warnings', () => {
    for (const i of [0, 1, 2, 7]) expect(parseLogLine(ATTEMPT1[i]), ATTEMPT1[i]).to.equal(undefined);
    expect(parseLogLine('')).to.equal(undefined);
    expect(parseLogLine(`2026-11-22 10:06:37 | INFO | valid | {not json`)).to.equal(undefined);
  });

  it('summarises a run over its attempts: best validation, epochs, updates, stop reason', () => {
    const parsed = (lines: string[]) => lines.map(parseLogLine).filter((r): r is RunRecord => r !== undefined);
    const records: RunRecord[] = [
      { event: 'start', resume: false },
      ...parsed(ATTEMPT1),
      { event: 'interrupted', signal: 'SIGTERM' },
      { event: 'end', exitCode: null, seconds: 7.5 },
      { event: 'start', resume: true },
      ...parsed(ATTEMPT2),
      { event: 'end', exitCode: 0, seconds: 12.25 },
    ];
    const s = summarizeRun(records);
    expect(s.best).to.deep.equal({ epoch: 2, updates: 46, loss: 0.1584, ppl: 1.1717, acc: 0.9973, acc_volume: 0.9973 });
    expect(s.last).to.include({ epoch: 3, loss: 0.2001 });
    expect(s).to.include({
      validations: 3,
      epochs: 3,
      updates: 69,
      stopReason: 'early_stop',
      attempts: 2,
      wallSeconds: 19.75,
      fairseqParams: 25212,
    });
    // an attempt that ends by max_epoch
    expect(
      summarizeRun([{ event: 'start' }, ...parsed(ATTEMPT1.slice(0, 12)), { event: 'done', seconds: 1 }]).stopReason,
    ).to.equal('max_epoch');
    expect(summarizeRun([{ event: 'start' }, ...parsed(ATTEMPT1)]).stopReason).to.equal(null);
    expect(summarizeRun([]).best).to.equal(null);
  });

  it('drops throughput fields from validation metrics', () => {
    expect(validMetrics(parseLogLine(ATTEMPT2[1])!)).to.deep.equal({
      epoch: 2,
      updates: 46,
      loss: 0.1584,
      ppl: 1.1717,
      acc: 0.9973,
      acc_volume: 0.9973,
    });
  });

  it('finds the Python error in the tail of a failed run', () => {
    const tail = [
      'Traceback (most recent call last):',
      '  File "/x/train.py", line 1, in <module>',
      'fairseq_plugins.dataset.DatasetError: /d/manifest.json: not found (is /d a dataset made by `netflowgen bin`?)',
      'something printed at exit',
    ];
    expect(lastPythonError(tail)).to.equal(
      'fairseq_plugins.dataset.DatasetError: /d/manifest.json: not found (is /d a dataset made by `netflowgen bin`?)',
    );
    expect(lastPythonError(['2026-11-22 10:00:00 | ERROR | fairseq.trainer | OOM', 'bye'])).to.equal('OOM');
    expect(lastPythonError(['KeyboardInterrupt'])).to.equal('KeyboardInterrupt');
    expect(lastPythonError(['all fine'])).to.equal(undefined);
  });
});

describe('train: what to do with a run folder', () => {
  const go = { resume: true, force: false };
  const H = 'aaaa';
  it('starts fresh in an empty folder, resumes the same spec, skips a finished one', () => {
    expect(planRun({ hasCheckpoint: false, hasResult: false }, H, go)).to.deep.equal({ action: 'fresh' });
    expect(planRun({ previousHash: H, hasCheckpoint: false, hasResult: false }, H, go)).to.deep.equal({
      action: 'fresh',
    });
    expect(planRun({ previousHash: H, hasCheckpoint: true, hasResult: false }, H, go)).to.deep.equal({
      action: 'resume',
    });
    expect(planRun({ previousHash: H, hasCheckpoint: true, hasResult: true }, H, go)).to.deep.equal({ action: 'done' });
  });
  it('refuses another spec or a folder of unknown checkpoints unless forced', () => {
    expect(planRun({ previousHash: 'bbbb', hasCheckpoint: true, hasResult: false }, H, go).action).to.equal('refuse');
    // nothing to lose: a folder whose run never saved a checkpoint is reused for the new spec
    expect(planRun({ previousHash: 'bbbb', hasCheckpoint: false, hasResult: false }, H, go)).to.deep.equal({
      action: 'restart',
      reason: 'the spec changed; the folder held no checkpoint',
    });
    expect(planRun({ hasCheckpoint: true, hasResult: false }, H, go).action).to.equal('refuse');
    expect(
      planRun({ previousHash: 'bbbb', hasCheckpoint: true, hasResult: true }, H, { resume: true, force: true }).action,
    ).to.equal('restart');
    expect(planRun({ hasCheckpoint: true, hasResult: false }, H, { resume: true, force: true }).action).to.equal(
      'restart',
    );
  });
  it('starts over with --no-resume or --force', () => {
    expect(
      planRun({ previousHash: H, hasCheckpoint: true, hasResult: false }, H, { resume: false, force: false }),
    ).to.deep.equal({ action: 'restart', reason: '--no-resume' });
    expect(
      planRun({ previousHash: H, hasCheckpoint: true, hasResult: true }, H, { resume: true, force: true }),
    ).to.deep.equal({ action: 'restart', reason: 'forced' });
    expect(
      planRun({ previousHash: H, hasCheckpoint: false, hasResult: false }, H, { resume: false, force: true }),
    ).to.deep.equal({ action: 'fresh' });
  });
});

describe('train: tables', () => {
  it('formats a Markdown table with aligned columns', () => {
    expect(
      markdownTable(
        ['A', 'Bee'],
        [
          ['x', 1.5],
          ['long', 22],
        ],
      ),
    ).to.equal('| A    | Bee |\n| ---- | --: |\n| x    | 1.5 |\n| long |  22 |\n');
  });

  it('makes Table 10 rows from results, and says why a row has none', () => {
    const result = {
      params: { total: 1_912_345 },
      best: { loss: 0.18123, acc: 0.9412, ppl: 1.1987, epoch: 40 },
      epochs: 50,
    } as never;
    const sizes = { layers: 4, heads: 4, width: 128, ffn: 512 };
    const done = table10Row(
      '4-4-128-512_lr5e-4_do0.3',
      { arch: 'netflowgen_4_4_128_512', learning_rate: 5e-4, dropout: 0.3, sizes },
      result,
      'done',
      null,
    );
    expect(done).to.deep.equal({
      run: '4-4-128-512_lr5e-4_do0.3',
      config: '4-4-128-512',
      arch: 'netflowgen_4_4_128_512',
      learning_rate: 5e-4,
      dropout: 0.3,
      params: 1_912_345,
      best_valid_loss: 0.18123,
      best_valid_acc: 0.9412,
      best_valid_ppl: 1.1987,
      best_epoch: 40,
      epochs: 50,
      status: 'done',
    });
    const missing = table10Row(
      'p',
      {
        arch: 'netflowgen_tiny',
        learning_rate: 1e-4,
        dropout: 0.1,
        sizes: { layers: 3, heads: 2, width: 32, ffn: 64 },
      },
      undefined,
      'not run',
      777,
    );
    expect(missing).to.include({ params: 777, best_valid_loss: null, status: 'not run', config: '3-2-32-64' });
    const md = table10Markdown([done, missing]).split('\n');
    expect(md[0]).to.match(
      /^\| Config +\| +LR \| Dropout \| # of Params\. \| Best valid loss \| Accuracy \| Perplexity \| Epochs \| Status +\|$/,
    );
    expect(md[2]).to.match(
      /^\| 4-4-128-512 +\| +5e-4 \| +0\.3 \| +1,912,345 \| +0\.1812 \| +0\.9412 \| +1\.1987 \| +50 \| done +\|$/,
    );
    expect(md[3]).to.match(/^\| 3-2-32-64 \(tiny\) \| +1e-4 \| +0\.1 \| +777 \| +- \| +- \| +- \| +- \| not run +\|$/);
  });

  it('makes Table 4 rows from score.json and from a bigram result', () => {
    const model = scoreMetrics({
      split: 'valid',
      loss: 0.19,
      ppl: 1.2092,
      acc: 0.94,
      acc_volume: 0.9,
      acc_port: 0.95,
      steps: 511,
      windows: 10,
    });
    expect(model).to.deep.equal({ loss: 0.19, ppl: 1.2092, acc: 0.94, groups: { volume: 0.9, port: 0.95 } });
    const bigram = {
      split: 'valid',
      loss: 0.21,
      perplexity: 1.2337,
      accuracy: 0.93,
      targets: 100,
      groups: {
        volume: { loss: 0.5, perplexity: 1.6487, accuracy: 0.8, targets: 10 },
        port: { loss: 0.1, perplexity: 1.105, accuracy: 0.97, targets: 90 },
      },
    };
    expect(bigramMetrics(bigram)).to.deep.equal({
      loss: 0.21,
      ppl: 1.2337,
      acc: 0.93,
      groups: { volume: 0.8, port: 0.97 },
    });
    expect(bigramMetrics(bigram, 'volume')).to.deep.equal({
      loss: 0.5,
      ppl: 1.6487,
      acc: 0.8,
      groups: { volume: 0.8 },
    });
    expect(() => bigramMetrics(bigram, 'flag')).to.throw(/no 'flag' group/);
    const md = table4Markdown([
      table4Row('NetFlowGen', 'valid', model, 'a'),
      table4Row('Bigram', 'valid', bigramMetrics(bigram), 'b'),
    ]).split('\n');
    expect(md[0]).to.match(/^\| Model +\| Split \| +Loss \| +PPL \| +Acc \| Acc volume \| Acc port \|$/);
    expect(md[2]).to.match(/^\| NetFlowGen \| valid \| 0\.1900 \| 1\.2092 \| 0\.9400 \| +0\.9000 \| +0\.9500 \|$/);
    expect(md[3]).to.match(/^\| Bigram +\| valid \| 0\.2100 \| 1\.2337 \| 0\.9300 \| +0\.8000 \| +0\.9700 \|$/);
  });
});
