// The scripts' JSON lines, schemas/python-events.schema.json, read on the TypeScript side: eventProblems
// names the wrong field and gives the verdicts Python's contracts.event_problems gives on the same lines
// (python/tests/test_events.py checks the writing side), and runPythonScript hands valid lines to onEvent
// and stops a script whose line breaks the contract. The script is a stand-in interpreter
// (NETFLOWGEN_PYTHON) that prints fixed lines, so what reaches runPythonScript is known exactly.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { checkedEventLines, eventProblems, type PythonScriptName, type ScoreEvent } from '../ts/bridge/events.js';
import { runPythonScript } from '../ts/bridge/python.js';
import { PY_ENV, PYTHON, ROOT, requirePython } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';

const PROGRESS = { event: 'progress', split: 'test', examples_done: 3, examples: 10, seconds: 0.5 };
const DONE = { event: 'done', out: '/x', windows: 4, steps: 7, loss: 0.5, ppl: 1.65, acc: 0.9 };

/** Lines both sides must judge alike: valid ones, and one fault of each kind. */
const CASES: [PythonScriptName, unknown][] = [
  ['score_detect', PROGRESS],
  ['score_detect', { ...PROGRESS, examples_done: -1 }],
  ['score_detect', { ...PROGRESS, examples: 2.5 }],
  ['score_detect', { ...PROGRESS, split: undefined }],
  ['score_detect', { event: 'done', split: 'test', out: '/x', n: 5, D: 30, mean_loss: null, seconds: 1 }],
  ['score_detect', { event: 'done', split: 'test', out: '/x', n: 5, D: 0, mean_loss: 0.2, seconds: 1 }],
  ['score', DONE],
  ['score', { ...DONE, ppl: null }],
  ['score', { ...DONE, acc_volume: 0.8 }],
  ['score', { ...DONE, event: 'finished' }],
  ['score', PROGRESS],
  ['generate', { event: 'progress', node_minutes_done: 0, node_minutes: 5, seconds: 0 }],
  ['generate', { event: 'done', out: '/x', rows: 2, minutes: 5, node_minutes_per_s: 'fast', sample_seconds: 1 }],
  ['forkserver', { event: 'ready', pid: 4242, seconds: 3.5 }],
  ['forkserver', { event: 'ready', seconds: 3.5 }],
];

describe('python-events: the JSON lines of the python/ scripts', function () {
  this.timeout(300_000); // a safety net, not a bound: the Python side imports fairseq
  const tmp = useTempDir();

  it('names the wrong field of a line', () => {
    expect(eventProblems('score_detect', PROGRESS)).to.deep.equal([]);
    expect(eventProblems('score_detect', { ...PROGRESS, examples_done: -1 })).to.deep.equal([
      '  - /examples_done: must be >= 0',
    ]);
    expect(eventProblems('score', { ...DONE, acc_volume: 0.8 })).to.deep.equal([
      "  - (top level): unknown key 'acc_volume'",
    ]);
    expect(eventProblems('score', { ...DONE, event: 'finished' })).to.deep.equal([
      '  - /event: "finished" is not one of progress, done',
    ]);
  });

  it('checks the lines of an output read whole (the benches run their scripts themselves) as runPythonScript does', () => {
    const progress = { event: 'progress', node_minutes_done: 4, node_minutes: 8, seconds: 0.1 };
    const done = { event: 'done', out: 'o', rows: 1, minutes: 8, node_minutes_per_s: null, sample_seconds: 0 };
    const lines = ['a warning', JSON.stringify(progress), JSON.stringify({ note: 'no event' }), JSON.stringify(done)];
    expect(checkedEventLines('generate', lines.join('\n'))).to.deep.equal([progress, done]);
    expect(() =>
      checkedEventLines('generate', [...lines.slice(0, 3), JSON.stringify({ ...done, rows: -1 })].join('\n')),
    ).to.throw(
      Error,
      /^python\/generate\.py, output line 4: \{"event":"done".*\n.*\(definitions\/generate\):\n.*\/rows: must be >= 0/,
    );
  });

  it("gives the verdicts Python's event_problems gives on the same lines", async () => {
    requirePython();
    const lines = CASES.map(([script, record]) => ({ script, record: JSON.parse(JSON.stringify(record)) as unknown }));
    const code = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(ROOT)})`,
      'from fairseq_plugins.contracts import event_problems',
      'print(json.dumps([event_problems(c["script"], c["record"]) == [] for c in json.load(sys.stdin)]))',
    ].join('\n');
    const r = await execa(PYTHON, ['-c', code], { cwd: ROOT, env: PY_ENV, input: JSON.stringify(lines) });
    const python = JSON.parse(r.stdout) as boolean[];
    const ours = lines.map((c) => eventProblems(c.script, c.record).length === 0);
    expect(ours).to.deep.equal(python);
    expect(ours.filter(Boolean)).to.have.length(6); // both kinds of verdict are in the comparison
  });

  /** Runs fn with a stand-in interpreter that prints `lines` and then runs `then` (a shell command). */
  async function withFakePython<T>(lines: string[], then: string, fn: () => Promise<T>): Promise<T> {
    const fake = join(tmp.dir, `python-${Math.random().toString(36).slice(2)}`);
    writeFileSync(fake, `#!/bin/sh\n${lines.map((l) => `printf '%s\\n' '${l}'`).join('\n')}\n${then}\n`);
    chmodSync(fake, 0o755);
    const before = process.env.NETFLOWGEN_PYTHON;
    process.env.NETFLOWGEN_PYTHON = fake;
    try {
      return await fn();
    } finally {
      if (before === undefined) delete process.env.NETFLOWGEN_PYTHON;
      else process.env.NETFLOWGEN_PYTHON = before;
    }
  }

  it('hands the valid lines to onEvent, skips other lines, and stops the script at a line that breaks the contract', async () => {
    const seen: ScoreEvent[] = [];
    const progress = { event: 'progress', windows_done: 2, windows: 4, seconds: 0.1 };
    const run = withFakePython(
      [
        'a warning that is not JSON',
        JSON.stringify(progress),
        JSON.stringify({ note: 'a JSON line without an event' }),
        JSON.stringify({ ...DONE, windows: -4 }),
      ],
      'exec sleep 30', // a script that would go on
      () => runPythonScript('score.py', [], { onEvent: (e) => seen.push(e) }),
    );
    const err = await run.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/^python\/score\.py, output line 4: \{"event":"done".*"windows":-4/);
    expect(err?.message).to.contain('does not match schemas/python-events.schema.json (definitions/score)');
    expect(err?.message).to.contain('/windows: must be >= 0');
    expect(seen).to.deep.equal([progress]);
  });

  it('resolves with the exit code when every line is valid', async () => {
    const seen: unknown[] = [];
    const r = await withFakePython([JSON.stringify(DONE)], 'exit 3', () =>
      runPythonScript('score.py', [], { onEvent: (e) => seen.push(e) }),
    );
    expect(r.exitCode).to.equal(3);
    expect(seen).to.deep.equal([DONE]);
  });
});
