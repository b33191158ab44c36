// The Python environment that scripts/setup.sh builds in .venv: pinned torch and numpy, and fairseq 0.12.2
// built from its PyPI sdist with the Python 3.11 / torch 2.13 patches (python/install_fairseq.sh).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';

const root = fileURLToPath(new URL('../..', import.meta.url)); // dist/test/ -> repository root
const venvBin = join(root, '.venv', 'bin');
const python = join(venvBin, 'python');
const env = { OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' };

describe('Python environment (.venv)', function () {
  this.timeout(30_000);

  before(function () {
    if (!existsSync(python)) {
      throw new Error(`${python} is missing: run \`bash scripts/setup.sh\` first`);
    }
  });

  it('has the pinned torch 2.13.0 (CPU) and numpy 1.26.4', async () => {
    const { stdout } = await execa(
      python,
      ['-c', 'import json, numpy, torch; print(json.dumps({"torch": torch.__version__, "numpy": numpy.__version__}))'],
      { cwd: root, env },
    );
    const versions = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { torch: string; numpy: string };
    expect(versions.torch.startsWith('2.13.0'), `torch ${versions.torch}`).to.equal(true);
    expect(versions.numpy).to.equal('1.26.4');
  });

  it('passes python/check_fairseq.py (import, configs, checkpoint round trip)', async () => {
    const result = await execa(python, ['python/check_fairseq.py'], { cwd: root, env, reject: false, all: true });
    expect(result.exitCode, result.all).to.equal(0);
    expect(result.stdout).to.include('fairseq 0.12.2');
    expect(result.stdout).to.include('sub-configs are per instance');
    expect(result.stdout).to.include('saved and loaded with checkpoint_utils');
    expect(result.stdout).to.include('fairseq check passed');
  });

  it('runs `fairseq-train --help` from the venv', async () => {
    const result = await execa(join(venvBin, 'fairseq-train'), ['--help'], {
      cwd: root,
      env,
      reject: false,
      all: true,
    });
    expect(result.exitCode, result.all).to.equal(0);
    expect(result.stdout).to.include('usage: fairseq-train');
    expect(result.stdout).to.include('--arch');
  });
});
