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
import { attackEvents, judge, logScore, matchRate, type ScoreLog } from '../ts/watch/operating.js';
import { ModelDeadError } from '../ts/watch/model.js';
import { NodeTable } from '../ts/watch/nodes.js';
import { minuteToIso, SeriesStore } from '../ts/serialize/store.js';
import { nameMinute } from '../ts/watch/source.js';
import { findTau } from '../ts/watch/tau.js';
import { watch, type WatchOptions } from '../ts/watch/watch.js';
import { netflowgen } from './helpers/cli.js';
import { sharedDetectChain, type DetectChain } from './helpers/detect-chain.js';
import { tempDir } from './helpers/tmp.js';
import { prefetch } from './helpers/prefetch.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quiet = () => {};

prefetch('detect-chain'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('watch: online detection replayed on tiny synthetic data', function () {
  this.timeout(900_000);
  let tmp: ReturnType<typeof tempDir>;
  let chain: DetectChain & { dir: string };
  let run: string;
  let ds: BinnedDataset;
  let from: number;
  let to: number;
  let tau: number;
  const scored = new Map<string, { row: number; minute: number; survival: number[] }>();
  let alertsFirst: WatchAlert[] = [];

  const base = (): WatchOptions => ({
    flowDir: join(chain.dir, 'synth/flows'),
    run,
    nodes: join(chain.dir, 'synth/nodes.csv'),
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
    chain = await sharedDetectChain(); // read only: the watch writes its alerts and state under tmp.dir
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
    expect(() => findTau(chain.dir)).to.throw(/no threshold for .*evaluate-detect/);
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
    const flows = join(chain.dir, 'synth/flows');
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

  it('a replayed micro run: the static detector alerts on the attack, at its onset, and never on a quiet node', async () => {
    // two of the dataset's nodes at 1 packet of 1 byte a minute (at or below anything they had in training,
    // or within one floor step of it: S >= 1 / (2 (n + 1)) > tau); node A takes 1e8 packets a minute for 10
    // minutes (S ~ max / ((n + 1) x) << tau). Every other node has no traffic (S = 1).
    const flows = join(chain.dir, 'synth/flows');
    const sample = readFileSync(join(flows, readdirSync(flows).sort()[0]), 'utf8').split('\n', 2);
    const cols = sample[0].split(',');
    const D = chain.manifest.detectLength;
    const W = chain.manifest.windowLength;
    const [A, B] = [ds.manifest.nodes[0].address, ds.manifest.nodes[1].address];
    const onset = from + 20;
    const end = onset + 9;
    const until = end + D + 15;
    const stamp = (m: number) => minuteToIso(m).replace('T', ' ').replace('Z', '').slice(0, 19);
    const line = (m: number, node: string, pkt: number, byt: number) => {
      const v = sample[1].split(',');
      const set = (c: string, x: string | number) => (v[cols.indexOf(c)] = String(x));
      set('ts', stamp(m));
      set('te', stamp(m));
      set('td', '0.000');
      set('sa', '203.0.113.9');
      set('da', node);
      set('ipkt', pkt);
      set('ibyt', byt);
      set('opkt', 0);
      set('obyt', 0);
      return v.join(',');
    };
    const rows = [sample[0]];
    for (let m = from - W; m < until; m++) {
      rows.push(line(m, B, 1, 1));
      rows.push(m >= onset && m <= end ? line(m, A, 1e8, 1e11) : line(m, A, 1, 1));
    }
    const micro = join(tmp.dir, 'micro');
    mkdirSync(micro);
    const d = new Date((from - W) * 60_000).toISOString();
    writeFileSync(
      join(micro, `flows-${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 16).replace(':', '')}.csv`),
      rows.join('\n') + '\n',
    );
    const alerts = join(tmp.dir, 'alerts-micro.jsonl');
    const log: ScoreLog = new Map();
    const s = await watch({
      ...base(),
      flowDir: micro,
      from,
      to: until,
      alerts,
      detectors: true,
      detectorTaus: { static: 1e-5 },
      onSurvival: (det, minute, node, sv) => det === 'static' && logScore(log, node, minute, sv),
    });
    expect(s.minutesScored).to.equal(until - from);
    const stat = readAlerts(alerts).filter((a) => a.detector === 'static');
    expect(stat.map((a) => `${a.node}:${a.epochMinute - onset}:${a.event}`)).to.deep.equal([
      `${A}:0:attack`,
      `${A}:${end + D - 1 + 5 - onset}:end`, // the attack leaves the D-minute window, then 5 quiet minutes
    ]);
    expect(log.get(B)!.survival.every((v) => v > 1e-5)).to.equal(true);
    // the bench's judge reads the same: 1 of 1 alerted at delay 0, no false alert
    const j = judge(attackEvents(log, 1e-5, { cooldown: 15, endAfter: 5 }), [{ node: A, onset, end }], D, 1);
    expect([j.alerted, j.medianDelay, j.falseAlerts]).to.deep.equal([1, 0, 0]);
  });

  it('--speed N paces the replay: one wait of 60/N seconds after each scored minute, none without it', async () => {
    const events: string[] = [];
    const opts = {
      ...base(),
      to: from + 3,
      onScores: (m: number) => events.push(`score ${m - from}`),
      pace: async (ms: number) => events.push(`wait ${ms}`),
    };
    await watch({ ...opts, speed: 600 });
    expect(events).to.deep.equal(['score 0', 'wait 100', 'score 1', 'wait 100', 'score 2', 'wait 100']);
    events.length = 0;
    await watch(opts);
    expect(events).to.deep.equal(['score 0', 'score 1', 'score 2']);
  });

  it('the status line is drawn on a terminal and not in a pipe', async () => {
    const args = ['watch', join(chain.dir, 'synth/flows'), '--model', run, '--replay', '--threads', '2'];
    args.push(
      '--from',
      minuteToIso(from),
      '--to',
      minuteToIso(from + 2),
      '--alerts',
      join(tmp.dir, 'alerts-cli.jsonl'),
    );
    // stderr is a pipe here; CI unset so that only the pipe can silence it
    const piped = await netflowgen(args, undefined, { NETFLOWGEN_PROGRESS: '', CI: '' });
    expect(piped.exitCode, piped.stderr).to.equal(0);
    expect(piped.stderr)
      .to.not.include('\r')
      .and.not.match(/min behind the newest record/);
    // the same run with the status line forced on (as on a terminal): the line is there, so its absence above is the pipe's
    const forced = await netflowgen(args, undefined, { NETFLOWGEN_PROGRESS: '1' });
    expect(forced.exitCode, forced.stderr).to.equal(0);
    expect(forced.stderr).to.match(/\rwatch \S+ \| \d+ min behind the newest record/);
  });
});

describe('watch: detectors judged and compared at a matched false-alert rate (operating.ts)', () => {
  // two nodes over one week each (2 node-weeks): q quiet but for two blips (S 0.1 at minute 100, 0.05 at 500),
  // a attacked at 300..305 (S 0.2 at 302, then 0.01 at 303..310); D = 10
  const week = 10_080;
  const log: ScoreLog = new Map();
  for (let m = 0; m < week; m++) {
    logScore(log, 'q', m, m === 100 ? 0.1 : m === 500 ? 0.05 : 1);
    logScore(log, 'a', m, m === 302 ? 0.2 : m >= 303 && m <= 310 ? 0.01 : 1);
  }
  const truth = [{ node: 'a', onset: 300, end: 305 }];
  const rules = { cooldown: 15, endAfter: 5 };

  it('judges events against the truth: alerted share, delays, false alerts per node-week', () => {
    const j = judge(attackEvents(log, 0.3, rules), truth, 10, 2, 0.3);
    expect(j).to.include({ attacks: 1, alerted: 1, medianDelay: 2, p90Delay: 2, attackEvents: 3, falseAlerts: 2 });
    expect(j.falsePerNodeWeek).to.equal(1);
  });

  it('at a target rate: the best-detecting threshold among those within it, by hand', () => {
    // <= 1 false alert per node-week (2 here): tau = 1 alerts at 302 (delay 2) with both blips; lower taus
    // alert at 303 (delay 3); above 1 every node alerts once at minute 0 and never ends (no attack caught)
    expect(matchRate(log, truth, 10, 1, rules)).to.include({ tau: 1, alerted: 1, medianDelay: 2, falseAlerts: 2 });
    // <= 0.5 (1 false alert): tau 0.05 and 0.1 both catch it at delay 3; 0.05 has no false alert
    expect(matchRate(log, truth, 10, 0.5, rules)).to.include({ tau: 0.05, alerted: 1, medianDelay: 3, falseAlerts: 0 });
    expect(matchRate(log, truth, 10, 0, rules)).to.include({ tau: 0.05, falseAlerts: 0 });
  });

  it('finds the same operating point as trying every threshold', () => {
    // 6 nodes: S = x^0.2 (x uniform: S < 0.3 about once in 400 minutes), during each node's attack x * 0.6;
    // brute force over every distinct value (and one above all), ranked as matchRate ranks
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const noisy: ScoreLog = new Map();
    const t2 = [];
    for (let n = 0; n < 6; n++) {
      const onset = 300 * n + 50;
      for (let m = 0; m < 2000; m++) {
        const x = rnd();
        logScore(noisy, `n${n}`, m, Math.round((m >= onset + 2 && m <= onset + 10 ? x * 0.6 : x ** 0.2) * 200) / 200);
      }
      t2.push({ node: `n${n}`, onset, end: onset + 10 });
    }
    const all = [...new Set([...noisy.values()].flatMap((s) => s.survival))].sort((x, y) => x - y);
    const seen = new Set<string>();
    for (const target of [0, 2, 10, 20, 40]) {
      const got = matchRate(noisy, t2, 10, target, rules);
      let best: [number, number] = [0, Infinity];
      for (const tau of [...all, 2]) {
        const j = judge(attackEvents(noisy, tau, rules), t2, 10, (6 * 2000) / week, tau);
        const key: [number, number] = [j.alerted, j.medianDelay ?? Infinity];
        if (j.falsePerNodeWeek <= target && (key[0] > best[0] || (key[0] === best[0] && key[1] < best[1]))) best = key;
      }
      expect(got.falsePerNodeWeek).to.be.at.most(target);
      expect([got.alerted, got.medianDelay ?? Infinity], `target ${target}`).to.deep.equal(best);
      seen.add(best.join());
    }
    expect(seen.size, 'the targets give different operating points').to.be.at.least(3);
  });
});
