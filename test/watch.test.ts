// netflowgen watch on tiny synthetic data: the project's chain (synth -> serialize -> bin -> detect-dataset,
// test/helpers/detect-chain.ts), a tiny TF detector fine-tuned for one epoch and evaluated (its tau), then the
// synth flow files replayed through `watch`. Oracles: python/score_detect.py on the same windows taken from the
// binned dataset (so the live aggregation and binning are checked too), the alert rules applied to those
// offline curves, a second run resumed from the state file, a killed model process, a notify script.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runPythonScript } from '../ts/bridge/python.js';
import { validateWithSchema } from '../ts/common/schema.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { evaluateDetect } from '../ts/evaluate/evaluate.js';
import { finalCheckpointPath, runFinetune } from '../ts/train/finetune.js';
import { loadFinetuneSpec } from '../ts/train/finetune-spec.js';
import { alertStep, newAlertState, type WatchAlert } from '../ts/watch/alerts.js';
import { ModelDeadError } from '../ts/watch/model.js';
import { NodeTable } from '../ts/watch/nodes.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { nameMinute } from '../ts/watch/source.js';
import { findTau } from '../ts/watch/tau.js';
import { watch, type WatchOptions } from '../ts/watch/watch.js';
import { makeDetectChain, type DetectChain } from './helpers/detect-chain.js';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quiet = () => {};

describe('watch: online detection replayed on tiny synthetic data', function () {
  this.timeout(900_000);
  let tmp: ReturnType<typeof tempDir>;
  let chain: DetectChain;
  let run: string;
  let ds: BinnedDataset;
  let from: number;
  let to: number;
  let tau: number;
  const scored = new Map<string, { row: number; minute: number; survival: number[] }>();
  let alertsFirst: WatchAlert[] = [];

  const base = (): WatchOptions => ({
    flowDir: join(tmp.dir, 'chain/synth/flows'),
    run,
    nodes: join(tmp.dir, 'chain/synth/nodes.csv'),
    replay: true,
    from,
    to,
    threads: 2,
    log: quiet,
  });
  const readAlerts = (p: string) =>
    readFileSync(p, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WatchAlert);

  before(async () => {
    tmp = tempDir('netflowgen-watch-');
    chain = await makeDetectChain(join(tmp.dir, 'chain'));
    const { spec } = loadFinetuneSpec(join(root, 'experiments/finetune/tiny/tf.json'), [
      { source: 'test', values: { dataset: chain.earlyDetect, max_epoch: 1 } },
    ]);
    run = join(tmp.dir, 'runs', spec.name);
    await runFinetune(spec, { runDir: run, check: false, threads: 2, log: quiet });
    await evaluateDetect([run], { out: join(tmp.dir, 'runs', 'detection'), threads: 2 });
    tau = findTau(run).tau;
    ds = BinnedDataset.open(chain.binned);
    const W = chain.manifest.windowLength;
    const test = ds.manifest.splits.test;
    from = ds.manifest.startMinute + test.start + W;
    to = Math.min(from + 90, ds.manifest.startMinute + test.end);
  });
  after(() => tmp?.cleanup());

  it('refuses a run without an evaluation, saying how to make one', () => {
    expect(() => findTau(join(tmp.dir, 'chain'))).to.throw(/no threshold for .*evaluate-detect/);
  });

  it('scores each closed minute as score_detect.py scores the same windows of the binned dataset, and alerts by the offline curves', async () => {
    const alerts = join(tmp.dir, 'alerts-full.jsonl');
    const s = await watch({
      ...base(),
      alerts,
      onScores: (minute, nodes, survival) => {
        const D = survival.length / nodes.length;
        nodes.forEach((n, i) =>
          scored.set(`${n.address}@${minute}`, {
            row: n.row,
            minute,
            survival: Array.from(survival.subarray(i * D, (i + 1) * D)),
          }),
        );
      },
    });
    expect(s.minutesScored).to.equal(to - from);
    expect(s.errors).to.equal(0);
    // the same windows, offline: an EarlyDetect folder whose test examples are (row, start) of each window
    const W = chain.manifest.windowLength;
    const D = chain.manifest.detectLength;
    const keys = [...scored.keys()].filter((k) => scored.get(k)!.row >= 0);
    expect(keys.length).to.be.greaterThan(100);
    const ex = new Int32Array(keys.length * 6);
    keys.forEach((k, i) => {
      const x = scored.get(k)!;
      ex.set([x.row, x.minute - W + 1 - ds.manifest.startMinute, 0, -1, -1, -1], i * 6);
    });
    const ed = join(tmp.dir, 'ed-watch');
    mkdirSync(ed);
    const m = JSON.parse(readFileSync(join(chain.earlyDetect, 'manifest.json'), 'utf8'));
    m.splits.test = { ...m.splits.test, count: keys.length, examples: 'test.examples.i32' };
    writeFileSync(join(ed, 'manifest.json'), JSON.stringify(m));
    writeFileSync(join(ed, 'test.examples.i32'), new Uint8Array(ex.buffer));
    const out = join(tmp.dir, 'offline');
    const r = await runPythonScript(
      'score_detect.py',
      ['--checkpoint', finalCheckpointPath(run), '--data', ed, '--split', 'test', '--out', out, '--device', 'cpu'],
      { threads: 2 },
    );
    expect(r.exitCode, r.tail.join('\n')).to.equal(0);
    const b = readFileSync(join(out, 'survival.f32'));
    const offline = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    let worst = 0;
    keys.forEach((k, i) => {
      const live = scored.get(k)!.survival;
      for (let t = 0; t < D; t++) worst = Math.max(worst, Math.abs(live[t] - offline[i * D + t]));
    });
    expect(worst).to.be.below(1e-5);
    // alerts: the documented rules applied to the offline curves, node by node in time order
    const expected: string[] = [];
    const states = new Map<string, ReturnType<typeof newAlertState>>();
    const order = keys
      .map((k, i) => ({ k, i, ...scored.get(k)! }))
      .sort((a, c) => a.minute - c.minute || (a.k < c.k ? -1 : 1));
    for (const o of order) {
      const node = o.k.split('@')[0];
      const st = states.get(node) ?? newAlertState();
      states.set(node, st);
      const e = alertStep(st, o.minute, offline[o.i * D + D - 1], tau, { cooldown: 15, endAfter: 5 });
      if (e) expected.push(`model:${node}:${o.minute}:${e}`);
    }
    alertsFirst = existsSync(alerts) ? readAlerts(alerts) : [];
    const seenRows = new Set(keys.map((k) => k.split('@')[0]));
    expect(alertsFirst.filter((a) => seenRows.has(a.node)).map((a) => a.id)).to.have.members(expected);
    for (const a of alertsFirst) validateWithSchema('watch-alert.schema.json', a, 'alert');
  });

  it('a node the dataset does not know is mapped to its nearest training node once it has W minutes of traffic', () => {
    const W = chain.manifest.windowLength;
    const table = new NodeTable(ds, W, W);
    const store = SeriesStore.open(ds.manifest.source.store);
    const S = store.nFeatures;
    const src = ds.manifest.nodes[0];
    const train = ds.manifest.splits.train;
    const raw = store.readNode(src.storeIndex, train.start, train.start + W);
    const node = table.add('203.0.113.77', src.customer);
    for (let t = 0; t < W; t++) {
      expect(node.cutoffs, `minute ${t}`).to.equal(null); // not mapped, not scored, before W minutes with traffic
      const v = Float64Array.from(raw.subarray(t * S, (t + 1) * S));
      v[0] += 1; // every minute has traffic
      table.push(new Map([['203.0.113.77', v]]));
    }
    expect(node.mappedTo).to.be.a('number');
    expect(table.scorable()).to.include(node);
    const target = ds.manifest.nodes[node.mappedTo!];
    expect(node.nodeId).to.equal(target.nodeId);
    expect(Array.from(node.cutoffs!)).to.deep.equal(Array.from(ds.readCutoffs(node.mappedTo!)));
    expect(node.distance).to.be.a('number').and.at.least(0);
    // its window holds its history binned with the mapped node's cutoffs, zero minutes as bin 0
    const win = new Uint8Array(W * table.F);
    table.window(node, win, 0);
    const F = table.F;
    const nb = ds.manifest.nBins;
    for (let t = 0; t < W; t++)
      for (let f = 0; f < F; f++) {
        const x = Math.fround(
          raw[t * S + ds.manifest.featureIndices[f]] + (ds.manifest.featureIndices[f] === 0 ? 1 : 0),
        );
        const cut = node.cutoffs!.subarray(f * (nb - 1), (f + 1) * (nb - 1));
        let b = 0;
        if (x > 0) {
          const finite = cut.filter((c) => c !== Infinity);
          b = finite.findIndex((c) => x <= c);
          b = b < 0 ? nb - 1 : b + 1;
        }
        expect(win[t * F + f], `minute ${t}, feature ${f}`).to.equal(b);
      }
  });

  it('a watch stopped half-way and restarted from its state file neither repeats nor loses an alert', async () => {
    const alerts = join(tmp.dir, 'alerts-restart.jsonl');
    const state = join(tmp.dir, 'watch.state');
    const mid = from + 40;
    await watch({ ...base(), to: mid, alerts, state });
    const st = JSON.parse(readFileSync(state, 'utf8'));
    expect(st.lastMinute).to.equal(mid - 1);
    const s2 = await watch({ ...base(), alerts, state });
    expect(s2.minutesScored).to.equal(to - mid);
    const ids = existsSync(alerts) ? readAlerts(alerts).map((a) => a.id) : [];
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.have.members(alertsFirst.map((a) => a.id));
  });

  it('live: a flow file that appears while the watch runs is picked up and its minutes scored', async () => {
    const flows = join(tmp.dir, 'chain/synth/flows');
    const files = readdirSync(flows).sort();
    expect(files.length).to.be.greaterThan(1);
    const live = join(tmp.dir, 'live');
    mkdirSync(live);
    copyFileSync(join(flows, files[0]), join(live, files[0]));
    const day2 = nameMinute(files[1])!;
    const ac = new AbortController();
    let copied = false;
    const minutes: number[] = [];
    let err: unknown;
    try {
      await watch({
        ...base(),
        flowDir: live,
        replay: false,
        from: day2 - 20,
        to: undefined,
        pollMs: 50,
        signal: ac.signal,
        alerts: join(tmp.dir, 'alerts-live.jsonl'),
        onScores: (minute) => {
          minutes.push(minute);
          if (!copied) {
            copied = true; // written under a dot name, renamed into place: as a collector should
            copyFileSync(join(flows, files[1]), join(live, `.${files[1]}`));
            renameSync(join(live, `.${files[1]}`), join(live, files[1]));
          }
          if (minute >= day2 + 5) ac.abort();
        },
      });
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.name).to.equal('AbortError');
    expect(minutes[0]).to.be.below(day2); // scored before the second file was there
    expect(minutes.filter((m) => m >= day2).length).to.be.greaterThan(0); // and its minutes after
    expect(minutes).to.deep.equal([...minutes].sort((a, b) => a - b));
    expect(new Set(minutes).size).to.equal(minutes.length);
  });

  it('a killed model process stops the watch with an error naming python/watch_model.py and its pid', async () => {
    let pid = 0;
    let err: unknown;
    try {
      await watch({
        ...base(),
        alerts: join(tmp.dir, 'alerts-kill.jsonl'),
        onModel: (info) => (pid = info.pid),
        onScores: () => {
          if (pid) process.kill(pid, 'SIGKILL');
        },
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ModelDeadError);
    expect((err as Error).message)
      .to.include('python/watch_model.py')
      .and.include(`pid ${pid}`)
      .and.match(/SIGKILL/);
  });

  it('a model call that outlasts the call timeout stops the watch, naming the timeout, and ends the process', async () => {
    let pid = 0;
    let err: unknown;
    try {
      // 1 ms: no forward pass answers that fast, so the first call is a hang as far as the watch can tell
      await watch({ ...base(), callTimeoutMs: 1, onModel: (info) => (pid = info.pid) });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ModelDeadError);
    expect((err as Error).message)
      .to.include(`pid ${pid}`)
      .and.match(/did not answer within/);
    expect(() => process.kill(pid, 0)).to.throw(/ESRCH/);
  });

  it('the notify script gets IP incoming|outgoing PPS ban|unban and the alert on stdin', async () => {
    // a threshold every window is below: every scored node alerts at the first scored minute
    const evaluation = join(tmp.dir, 'high-tau.json');
    writeFileSync(evaluation, JSON.stringify({ runs: [{ run, outcomes: { bound: 0.8, tau: 0.999999 } }] }));
    const calls = join(tmp.dir, 'calls.txt');
    const script = join(tmp.dir, 'notify.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" >> ${calls}\ncat >> ${calls}.stdin\n`);
    chmodSync(script, 0o755);
    const alerts = join(tmp.dir, 'alerts-notify.jsonl');
    await watch({ ...base(), to: from + 2, evaluation, alerts, notifyScript: script });
    const written = readAlerts(alerts);
    expect(written.length).to.be.greaterThan(0);
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).to.deep.equal(
      written.map(
        (a) =>
          `${a.node} ${a.direction} ${Math.round(a.direction === 'incoming' ? a.traffic.in.pps : a.traffic.out.pps)} ban`,
      ),
    );
    for (const l of lines) expect(l).to.match(/^\S+ (incoming|outgoing) \d+ ban$/);
    const stdin = readFileSync(`${calls}.stdin`, 'utf8').trim().split('\n');
    expect(stdin.map((l) => (JSON.parse(l) as WatchAlert).id)).to.deep.equal(written.map((a) => a.id));
    expect(written.every((a) => a.tau === 0.999999)).to.equal(true);
  });
});
