// The fork server (python/forkserver.py, ts/bridge/forkserver.ts): a Python job run in a fork of one
// Python that imported torch and fairseq must look to its caller like the fresh process it replaces
// (argv, environment, folder, output, exit status, signals), and compute the same numbers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { forkServerEnabled, withForkServer } from '../ts/bridge/forkserver.js';
import { jobArgv, pythonBin, pythonScript } from '../ts/bridge/python.js';
import { evaluatePretrain } from '../ts/train/evaluate.js';
import { readRunLog } from '../ts/train/folder.js';
import { runPretrain } from '../ts/train/run.js';
import { loadSpec } from '../ts/train/spec.js';
import { requirePython } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { makePatternDataset } from './train-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a process exists (a zombie of ours counts as gone once reaped by its parent). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('bridge: the fork server runs Python jobs as fresh processes would', function () {
  this.timeout(600_000); // a safety net, not a speed check: the server imports torch and fairseq
  const tmp = useTempDir('netflowgen-fork-');
  let script: string;
  let sleeper: string;

  before(() => {
    requirePython();
    script = join(tmp.dir, 'job.py');
    writeFileSync(
      script,
      [
        'import json, os, sys',
        'import torch',
        'print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "x": os.environ.get("NETFLOWGEN_TEST_X"),',
        '                  "threads": torch.get_num_threads(), "name": __name__}))',
        'print("to stderr", file=sys.stderr)',
        'sys.exit(int(sys.argv[1]))',
      ].join('\n'),
    );
    sleeper = join(tmp.dir, 'sleep.py');
    writeFileSync(sleeper, 'import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(600)\n');
  });

  it('is on unless NETFLOWGEN_FORK_SERVER says 0, and routes nothing when no server is open', async () => {
    expect(forkServerEnabled({})).to.equal(true);
    expect(forkServerEnabled({ NETFLOWGEN_FORK_SERVER: '0' })).to.equal(false);
    expect(forkServerEnabled({ NETFLOWGEN_FORK_SERVER: 'off' })).to.equal(false);
    expect(await jobArgv(['/bin/true', 'x'])).to.deep.equal(['/bin/true', 'x']);
  });

  it("hands a job its argv, environment, folder, thread count, output and exit status; exec's other programs", async () => {
    const argv = [pythonBin(), script, '3', 'two words'];
    const env = { NETFLOWGEN_TEST_X: 'x value', OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' };
    const fresh = await execa(argv[0], argv.slice(1), { cwd: tmp.dir, env, reject: false });
    const { forked, shell } = await withForkServer(async () => {
      const a = await jobArgv(argv);
      expect(a.slice(0, 2)).to.deep.equal([pythonBin(), pythonScript('forkrun.py')]);
      expect(a.slice(3)).to.deep.equal(argv);
      const forked = await execa(a[0], a.slice(1), { cwd: tmp.dir, env, reject: false });
      const s = await jobArgv(['/bin/sh', '-c', 'echo "$NETFLOWGEN_TEST_X in $(pwd)"; exit 4']);
      const shell = await execa(s[0], s.slice(1), { cwd: tmp.dir, env, reject: false });
      return { forked, shell };
    });
    expect(fresh.exitCode).to.equal(3);
    expect(forked.exitCode).to.equal(3);
    expect(JSON.parse(forked.stdout)).to.deep.equal(JSON.parse(fresh.stdout));
    expect(JSON.parse(forked.stdout)).to.include({ cwd: tmp.dir, x: 'x value', threads: 1, name: '__main__' });
    expect(forked.stderr).to.equal(fresh.stderr);
    expect(shell.exitCode).to.equal(4);
    expect(shell.stdout).to.equal(`x value in ${tmp.dir}`);
  });

  it('passes SIGTERM on to the job and dies of it; a job whose client is killed ends too', async () => {
    await withForkServer(async () => {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const a = await jobArgv([pythonBin(), sleeper]);
        const child = execa(a[0], a.slice(1), { reject: false, env: { PYTHONUNBUFFERED: '1' } });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        await waitFor('the job printing its pid', () => out.includes('\n'), child);
        const job = Number(out.trim());
        expect(job).to.not.equal(child.pid); // a fork of the server, not the client
        child.kill(signal);
        const r = await child;
        expect(r.signal, signal).to.equal(signal);
        await waitFor(`the job ending after its client got ${signal}`, () => !alive(job));
      }
    });
  });

  it('trains to the same weights and losses, and scores the same numbers, as a fresh fairseq-train', async () => {
    const dataset = await makePatternDataset(join(tmp.dir, 'data'));
    const { spec } = loadSpec(join(root, 'experiments/pretrain/tiny.json'), [
      { source: 'test', values: { dataset, max_epoch: 2 } },
    ]);
    const run = async (dir: string) => {
      await runPretrain(spec, { runDir: dir, check: false, threads: 1, log: () => {} });
      const t4 = await evaluatePretrain(dir, { threads: 1, splits: ['valid'], log: () => {} });
      return t4.table.rows[0];
    };
    const fresh = join(tmp.dir, 'fresh');
    const forked = join(tmp.dir, 'forked');
    const freshRow = await run(fresh);
    const forkedRow = await withForkServer(() => run(forked));
    const numbers = (dir: string) =>
      readRunLog(dir)
        .filter((r) => ['train_inner', 'valid', 'train'].includes(String(r.event)))
        .map((r) =>
          Object.fromEntries(
            Object.entries(r).filter(([k]) => /loss|acc|ppl|epoch|num_updates|gnorm/.test(k) && !/wall/.test(k)),
          ),
        );
    expect(numbers(forked).length).to.be.above(4);
    expect(numbers(forked)).to.deep.equal(numbers(fresh));
    expect(forkedRow.loss).to.equal(freshRow.loss);
    expect(forkedRow.acc).to.equal(freshRow.acc);
    // command.txt names fairseq-train, not the client that ran it
    expect(readFileSync(join(forked, 'command.txt'), 'utf8')).to.not.include('forkrun');
    const same = await execa(
      pythonBin(),
      [
        '-c',
        [
          'import sys, torch',
          'a, b = (torch.load(f, map_location="cpu", weights_only=False)["model"] for f in sys.argv[1:])',
          'print(sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a))',
        ].join('\n'),
        join(fresh, 'checkpoint_best.pt'),
        join(forked, 'checkpoint_best.pt'),
      ],
      { env: { OMP_NUM_THREADS: '1' } },
    );
    expect(same.stdout.trim()).to.equal('True');
  });
});
