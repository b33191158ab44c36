// The stage graph of netflowgen reproduce: order, hashes, caching, atomic outputs, interruption,
// resumable stages, shared folders, --redo. Toy stages that write small files: milliseconds.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  PARTIAL_SUFFIX,
  planStages,
  redoSet,
  runPlan,
  stageHash,
  upstreamOf,
  type StageEvent,
  type StageSpec,
} from '../ts/reproduce/graph.js';
import { createChainView, formatSeconds, stageLine } from '../ts/reproduce/progress.js';
import { tempDir } from './helpers/tmp.js';

/** A stage that writes out.txt = its config's text plus its inputs' out.txt, and counts its runs. */
function toy(
  id: string,
  config: unknown,
  inputs: Record<string, string> = {},
  runs: Record<string, number> = {},
  extra: Partial<StageSpec> = {},
): StageSpec {
  return {
    id,
    kind: id.split(':')[0],
    label: `toy ${id}`,
    version: 1,
    config,
    inputs,
    run: async (ctx) => {
      runs[id] = (runs[id] ?? 0) + 1;
      const parts = [
        JSON.stringify(config),
        ...Object.keys(inputs)
          .sort()
          .map((r) => readFileSync(join(ctx.input(r), 'out.txt'), 'utf8')),
      ];
      writeFileSync(join(ctx.dir, 'out.txt'), parts.join('+'));
    },
    ...extra,
  };
}

describe('reproduce: the stage graph', () => {
  const tmp = tempDir('netflowgen-graph-');
  after(() => tmp.cleanup());
  let n = 0;
  const fresh = () => join(tmp.dir, `root${n++}`);

  it('orders stages so that inputs come first, keeping the given order where free', () => {
    const plan = planStages([toy('c', 3, { x: 'b' }), toy('a', 1), toy('b', 2, { x: 'a' }), toy('d', 4)], '/r');
    expect(plan.map((s) => s.id)).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(plan[0].dir).to.equal(`/r/a-${plan[0].hash}`);
  });

  it('refuses cycles, unknown inputs and duplicate ids, naming them', () => {
    expect(() => planStages([toy('a', 1, { x: 'b' }), toy('b', 1, { x: 'a' })], '/r')).to.throw(/cycle: a -> b -> a/);
    expect(() => planStages([toy('a', 1, { x: 'nope' })], '/r')).to.throw(
      /'a' reads 'nope' \(as x\), which is not a stage/,
    );
    expect(() => planStages([toy('a', 1), toy('a', 2)], '/r')).to.throw(/two stages are called 'a'/);
  });

  it('hashes config and inputs: a change reaches exactly the stages downstream', () => {
    const p1 = planStages([toy('a', 1), toy('b', 2, { x: 'a' }), toy('c', 3)], '/r');
    const p2 = planStages([toy('a', 9), toy('b', 2, { x: 'a' }), toy('c', 3)], '/r');
    expect(p2[0].hash).to.not.equal(p1[0].hash);
    expect(p2[1].hash).to.not.equal(p1[1].hash); // same config, changed input
    expect(p2[2].hash).to.equal(p1[2].hash);
    // Key order does not matter; the version does.
    expect(stageHash('k', 1, { a: 1, b: 2 }, {})).to.equal(stageHash('k', 1, { b: 2, a: 1 }, {}));
    expect(stageHash('k', 2, { a: 1 }, {})).to.not.equal(stageHash('k', 1, { a: 1 }, {}));
  });

  it('jobs 2: independent stages run side by side, a stage waits for its inputs, and the results equal a serial run', async () => {
    // b and c each wait until the other has started: with one job this would never finish, with two it does.
    const started: Record<string, () => void> = {};
    const both = { b: new Promise<void>((r) => (started.b = r)), c: new Promise<void>((r) => (started.c = r)) };
    const meet = (me: 'b' | 'c', other: 'b' | 'c') => ({
      run: async (ctx: { dir: string; input(role: string): string }) => {
        started[me]();
        await both[other];
        writeFileSync(join(ctx.dir, 'out.txt'), `${me}+${readFileSync(join(ctx.input('x'), 'out.txt'), 'utf8')}`);
      },
    });
    const stages = [
      toy('a', 1),
      toy('b', 2, { x: 'a' }, {}, meet('b', 'c')),
      toy('c', 3, { x: 'a' }, {}, meet('c', 'b')),
      toy('d', 4, { x: 'b', y: 'c' }),
    ];
    const events: StageEvent[] = [];
    const plan = planStages(stages, fresh());
    const out = await runPlan(plan, { jobs: 2, onEvent: (e) => events.push(e) });
    expect(out.map((o) => o.id).sort()).to.deep.equal(['a', 'b', 'c', 'd']);
    const order = events
      .filter((e) => e.type === 'start' || e.type === 'done')
      .map((e) => `${e.type}:${(e as { id: string }).id}`);
    expect(order.indexOf('done:a')).to.be.lessThan(order.indexOf('start:b'));
    expect(order.indexOf('start:c')).to.be.lessThan(order.indexOf('done:b'));
    expect(order.indexOf('done:b')).to.be.lessThan(order.indexOf('start:d'));
    expect(order.indexOf('done:c')).to.be.lessThan(order.indexOf('start:d'));
    expect(readFileSync(join(plan[3].dir, 'out.txt'), 'utf8')).to.equal('4+b+1+c+1');
  });

  it('jobs 2: a failing stage stops the one beside it, keeps nothing that looks done, and its error comes through', async () => {
    let sawAbort = false;
    let cStarted!: () => void;
    const cRunning = new Promise<void>((r) => (cStarted = r));
    const stages = [
      toy('a', 1),
      toy(
        'b',
        2,
        { x: 'a' },
        {},
        {
          run: async () => {
            await cRunning; // fail only once c is running beside it
            throw new Error('b broke');
          },
        },
      ),
      toy(
        'c',
        3,
        { x: 'a' },
        {},
        {
          run: (ctx) =>
            new Promise<void>((resolve, reject) => {
              cStarted();
              const stopped = () => {
                sawAbort = true;
                const e = new Error('stopped');
                e.name = 'AbortError';
                reject(e);
              };
              if (ctx.signal!.aborted) stopped();
              else ctx.signal!.addEventListener('abort', stopped);
            }),
        },
      ),
      toy('d', 4, { x: 'c' }),
    ];
    const plan = planStages(stages, fresh());
    const err = await runPlan(plan, { jobs: 2 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal('b broke');
    expect(sawAbort).to.equal(true);
    for (const s of plan.slice(1)) expect(existsSync(s.dir), s.id).to.equal(false);
  });

  it('runs everything once, then finds it all done', async () => {
    const root = fresh();
    const runs: Record<string, number> = {};
    const stages = [toy('a', 1, {}, runs), toy('b', 2, { x: 'a' }, runs)];
    const first = await runPlan(planStages(stages, root));
    expect(first.map((o) => o.cached)).to.deep.equal([false, false]);
    expect(readFileSync(join(first[1].dir, 'out.txt'), 'utf8')).to.equal('2+1');
    const again = await runPlan(planStages(stages, root));
    expect(again.map((o) => o.cached)).to.deep.equal([true, true]);
    expect(runs).to.deep.equal({ a: 1, b: 1 });
    const rec = JSON.parse(readFileSync(join(first[1].dir, 'stage.json'), 'utf8'));
    expect(rec.inputs.x.hash).to.equal(planStages(stages, root)[0].hash);
  });

  it('after a config change redoes only the changed stage and what reads it', async () => {
    const root = fresh();
    const runs: Record<string, number> = {};
    await runPlan(planStages([toy('a', 1, {}, runs), toy('b', 2, { x: 'a' }, runs), toy('c', 3, {}, runs)], root));
    const out = await runPlan(
      planStages([toy('a', 1, {}, runs), toy('b', 5, { x: 'a' }, runs), toy('c', 3, {}, runs)], root),
    );
    expect(out.map((o) => [o.id, o.cached])).to.deep.equal([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
    expect(runs).to.deep.equal({ a: 1, b: 2, c: 1 });
  });

  it('an interrupted stage leaves only a .partial folder, and is redone from scratch', async () => {
    const root = fresh();
    const runs: Record<string, number> = {};
    const ac = new AbortController();
    const failing = toy('b', 2, { x: 'a' }, runs, {
      run: async (ctx) => {
        runs.b = (runs.b ?? 0) + 1;
        writeFileSync(join(ctx.dir, 'half.txt'), 'half');
        ac.abort();
      },
    });
    let err: Error | undefined;
    await runPlan(planStages([toy('a', 1, {}, runs), failing], root), { signal: ac.signal }).catch(
      (e: Error) => (err = e),
    );
    expect(err?.name).to.equal('AbortError');
    expect(err?.message).to.match(/interrupted during b/);
    const plan = planStages([toy('a', 1, {}, runs), toy('b', 2, { x: 'a' }, runs)], root);
    expect(existsSync(plan[1].dir)).to.equal(false);
    expect(existsSync(plan[1].dir + PARTIAL_SUFFIX)).to.equal(true);
    const out = await runPlan(plan);
    expect(out.map((o) => o.cached)).to.deep.equal([true, false]);
    expect(readdirSync(plan[1].dir).sort()).to.deep.equal(['out.txt', 'stage.json']); // the half-written file went with the old attempt
    expect(existsSync(plan[1].dir + PARTIAL_SUFFIX)).to.equal(false);
  });

  it('a failing stage keeps nothing that looks done, and the error comes through', async () => {
    const root = fresh();
    const bad = toy(
      'a',
      1,
      {},
      {},
      {
        run: async () => {
          throw new Error('boom');
        },
      },
    );
    const events: StageEvent[] = [];
    await runPlan(planStages([bad], root), { onEvent: (e) => events.push(e) }).then(
      () => expect.fail('should throw'),
      (e: Error) => expect(e.message).to.equal('boom'),
    );
    expect(events.map((e) => e.type)).to.deep.equal(['plan', 'start', 'failed']);
    expect(readdirSync(root).filter((f) => !f.endsWith(PARTIAL_SUFFIX))).to.deep.equal([]);
  });

  it('a resumable stage finds what its interrupted attempt left', async () => {
    const root = fresh();
    let attempt = 0;
    const seen: boolean[] = [];
    const trainer = toy(
      't',
      1,
      {},
      {},
      {
        resumable: true,
        run: async (ctx) => {
          attempt++;
          seen.push(existsSync(join(ctx.dir, 'checkpoint')));
          writeFileSync(join(ctx.dir, 'checkpoint'), String(attempt));
          if (attempt === 1) throw new Error('killed');
          writeFileSync(join(ctx.dir, 'out.txt'), 'trained');
        },
      },
    );
    await runPlan(planStages([trainer], root)).catch(() => {});
    const events: StageEvent[] = [];
    await runPlan(planStages([trainer], root), { onEvent: (e) => events.push(e) });
    expect(seen).to.deep.equal([false, true]);
    expect(events.find((e) => e.type === 'start')).to.include({ resumed: true });
  });

  it('two stages with the same hash share one folder and run once', async () => {
    const root = fresh();
    const runs: Record<string, number> = {};
    const plan = planStages([toy('train:main', 1, {}, runs), toy('train:size', 1, {}, runs)], root);
    expect(plan[1].sameAs).to.equal('train:main');
    expect(plan[1].dir).to.equal(plan[0].dir);
    const out = await runPlan(plan);
    expect(out.map((o) => o.cached)).to.deep.equal([false, true]);
    expect(runs).to.deep.equal({ 'train:main': 1 });
  });

  it('--redo runs a stage again with everything after it; upstreamOf prunes to what targets need', async () => {
    const root = fresh();
    const runs: Record<string, number> = {};
    const stages = [toy('a', 1, {}, runs), toy('b', 2, { x: 'a' }, runs), toy('c', 3, {}, runs)];
    await runPlan(planStages(stages, root));
    const plan = planStages(stages, root);
    expect([...redoSet(plan, ['a'])]).to.deep.equal(['a', 'b']);
    expect(() => redoSet(plan, ['nope'])).to.throw(/no stage or kind 'nope'/);
    await runPlan(plan, { redo: redoSet(plan, ['a']) });
    expect(runs).to.deep.equal({ a: 2, b: 2, c: 1 });
    expect(upstreamOf(plan, ['b']).map((s) => s.id)).to.deep.equal(['a', 'b']);
  });

  it('the progress view: one line per stage in pipes', async () => {
    const root = fresh();
    mkdirSync(root, { recursive: true });
    const lines: string[] = [];
    const view = createChainView({ tty: false, write: (s) => lines.push(s) });
    await runPlan(planStages([toy('a', 1), toy('b', 2, { x: 'a' })], root), { onEvent: (e) => view.onEvent(e) });
    view.stop();
    expect(lines[0]).to.equal('reproduce: 2 stages, 0 already done\n');
    expect(lines[1]).to.equal('[1/2] toy a ...\n');
    expect(lines[2]).to.match(/^\[1\/2\] toy a \d+\.\d s\n$/);
    expect(
      stageLine({ type: 'done', id: 'x', label: 'bin', index: 9, total: 12, cached: true, seconds: 0, dir: '' }),
    ).to.equal('[10/12] bin (cached)');
    expect([59.94, 59.96, 179.6, 3725].map(formatSeconds)).to.deep.equal([
      '59.9 s',
      '1 min 0 s',
      '3 min 0 s',
      '1 h 2 min',
    ]);
  });
});
