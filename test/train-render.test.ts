import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { pretrainCommand } from '../ts/cli/pretrain.js';
import { commandText, renderCommand, shellQuote, shellWords } from '../ts/train/render.js';
import { parseSetArgs } from '../ts/config/compose.js';
import { loadSpec } from '../ts/train/spec.js';
import { inProcess } from './helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TINY = join(root, 'experiments/pretrain/tiny.json');
const FAIRSEQ = join(root, '.venv/bin/fairseq-train');
const PLUGINS = join(root, 'fairseq_plugins');

/** The argv the tiny spec must render to, flag by flag (experiments/pretrain/base.json + tiny.json). */
function tinyArgv(dataset: string, saveDir: string): string[] {
  return [
    FAIRSEQ,
    dataset,
    ...['--user-dir', PLUGINS],
    ...['--task', 'netflow_pretrain'],
    ...['--feature-set', 'full'],
    ...['--window', '32'],
    ...['--arch', 'netflowgen_tiny'],
    ...['--dropout', '0.1'],
    ...['--criterion', 'netflow_nll'],
    ...['--optimizer', 'adam'],
    ...['--adam-betas', '(0.9, 0.98)'],
    ...['--weight-decay', '0'],
    ...['--clip-norm', '0'],
    ...['--lr', '0.003'],
    ...['--lr-scheduler', 'fixed'],
    ...['--batch-size', '8'],
    ...['--max-epoch', '5'],
    ...['--patience', '3'],
    ...['--seed', '1'],
    ...['--save-dir', saveDir],
    '--no-epoch-checkpoints',
    ...['--log-format', 'json'],
    ...['--log-interval', '5'],
    ...['--num-workers', '0'],
    '--cpu',
  ];
}

const runCli = (args: string[]) => inProcess([pretrainCommand as never], args);

describe('train: rendering the fairseq-train command', () => {
  it('quotes shell words only when needed, and splits them back', () => {
    expect(shellQuote('/a/b-c_d.e,f:g=h@i+j%k')).to.equal('/a/b-c_d.e,f:g=h@i+j%k');
    expect(shellQuote('(0.9, 0.98)')).to.equal(`'(0.9, 0.98)'`);
    expect(shellQuote(`it's`)).to.equal(`'it'\\''s'`);
    expect(shellQuote('')).to.equal(`''`);
    for (const w of ['plain', '(0.9, 0.98)', `it's`, 'a b  c', '$HOME', '"q"', ''])
      expect(shellWords(`--x ${shellQuote(w)}`)).to.deep.equal(['--x', w]);
    expect(shellWords(`a "b \\"c\\" d" e\\ f`)).to.deep.equal(['a', 'b "c" d', 'e f']);
    expect(() => shellWords(`a 'b`)).to.throw(/unclosed/);
  });

  it('renders the tiny spec to exactly the expected argv', () => {
    const { spec } = loadSpec(TINY, [{ source: 'test', values: { dataset: '/data/ds' } }]);
    const cmd = renderCommand(spec, { saveDir: '/runs/my run' });
    expect(cmd.argv).to.deep.equal(tinyArgv('/data/ds', '/runs/my run'));
    // one argument or flag-and-value per line, quoted for a shell
    expect(cmd.lines).to.include(`--adam-betas '(0.9, 0.98)'`).and.include(`--save-dir '/runs/my run'`);
    expect(cmd.lines.flatMap((l) => shellWords(l))).to.deep.equal(cmd.argv);
  });

  it('renders size overrides, schedules, limits, GPU options and extra arguments', () => {
    const { spec } = loadSpec(TINY, [
      parseSetArgs([
        'dataset=/d',
        'model.layers=3',
        'model.width=48',
        'model.heads=3',
        'model.ffn=96',
        'lr_scheduler=inverse_sqrt',
        'warmup_updates=100',
        'max_update=500',
        'feature_set=light',
      ]),
      parseSetArgs(['fairseq_args=["--valid-subset", "test", "--stop-time-hours", "1.5"]']),
      { source: 'command line', values: { device: 'cuda', precision: 'bf16', world_size: 2 } },
    ]);
    const argv = renderCommand(spec, { saveDir: '/r' }).argv;
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect([
      after('--decoder-layers'),
      after('--decoder-attention-heads'),
      after('--decoder-embed-dim'),
      after('--decoder-ffn-embed-dim'),
    ]).to.deep.equal(['3', '3', '48', '96']);
    expect([
      after('--lr-scheduler'),
      after('--warmup-updates'),
      after('--max-update'),
      after('--feature-set'),
    ]).to.deep.equal(['inverse_sqrt', '100', '500', 'light']);
    expect(argv).to.include('--bf16').and.not.include('--cpu').and.not.include('--fp16');
    expect(after('--distributed-world-size')).to.equal('2');
    expect(argv.slice(-4)).to.deep.equal(['--valid-subset', 'test', '--stop-time-hours', '1.5']);
  });

  it('leaves out what the spec does not set: no --window, no --max-update, no world size of 1', () => {
    const { spec } = loadSpec(join(root, 'experiments/pretrain/netflowgen-4-4-128-512.json'), [
      { source: 'test', values: { dataset: '/d' } },
    ]);
    const argv = renderCommand(spec, { saveDir: '/r' }).argv;
    expect(argv)
      .to.not.include('--window')
      .and.not.include('--max-update')
      .and.not.include('--distributed-world-size')
      .and.not.include('--warmup-updates');
    expect(argv[argv.indexOf('--arch') + 1]).to.equal('netflowgen_4_4_128_512');
    expect(argv[argv.indexOf('--lr') + 1]).to.equal('0.0005');
    expect(argv[argv.indexOf('--dropout') + 1]).to.equal('0.3');
    expect(argv[argv.indexOf('--max-epoch') + 1]).to.equal('100');
  });

  it('writes command.txt as one pasteable command with its environment', () => {
    const text = commandText({ argv: ['a', 'b c'], lines: ['a', `'b c'`] }, { OMP_NUM_THREADS: '2' });
    expect(text).to.equal(`OMP_NUM_THREADS=2 \\\n  a \\\n  'b c'\n`);
  });

  it('netflowgen pretrain --dry-run prints that command and runs nothing', async () => {
    const { out, code } = await runCli([
      'pretrain',
      TINY,
      '--dataset',
      '/data/ds',
      '--out',
      '/runs',
      '--threads',
      '3',
      '--dry-run',
    ]);
    expect(code ?? 0).to.equal(0);
    const lines = out.trimEnd().split(' \\\n  ');
    expect(lines[0]).to.equal('PYTHONUNBUFFERED=1 OMP_NUM_THREADS=3 MKL_NUM_THREADS=3');
    expect(lines.slice(1).flatMap((l) => shellWords(l))).to.deep.equal(tinyArgv('/data/ds', '/runs/tiny'));
  });

  it('netflowgen pretrain reports a misspelt --set key and exits non-zero', async () => {
    const { err, code } = await runCli(['pretrain', TINY, '--set', 'dropuot=0.2', '--dry-run']);
    expect(code).to.equal(1);
    expect(err).to.equal(`netflowgen: --set: unknown key 'dropuot' (did you mean 'dropout'?)\n`);
  });
});
