import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FEATURE_NAMES, featureIndex } from '../ts/catalogue/features.js';
import { writeHandMadeStore } from './helpers/store.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { readAlerts, readGroundTruth } from '../ts/splits/alerts.js';
import { buildEarlyDetect, type EarlyDetectManifest } from '../ts/earlydetect/build.js';
import { cusumOnset, meanStd } from '../ts/earlydetect/cusum.js';
import * as EX from '../ts/earlydetect/examples.js';
import { reportMatches, sumColumn } from '../ts/splits/alert-filter.js';
import { formatTable2, onsetError, table2 } from '../ts/earlydetect/summary.js';
import { isoToMinute, minuteToIso } from '../ts/serialize/store.js';
import { tempDir } from './helpers/tmp.js';

const f64 = (a: number[]) => Float64Array.from(a);

describe('earlydetect: CUSUM onset', () => {
  it('flat baseline (sigma floored to 1): the onset is the first minute above mean + k sigma', () => {
    const x = f64([...new Array(20).fill(10), 10, 10, 50, 60, 70]);
    const r = cusumOnset(x, { start: 0, end: 20 }, { start: 20, end: 25 });
    expect(r).to.deep.equal({ onset: 22, alarm: 22, mean: 10, sigma: 1 });
  });

  it('noisy baseline: k = 0.5 sigma drift, h = 5 sigma threshold, onset where the alarming run began', () => {
    // baseline 8,12,...: mean 10, sigma 2 -> drift 11, threshold 10
    const base = Array.from({ length: 20 }, (_, i) => (i % 2 ? 12 : 8));
    // scan: 11 (S 0), 12 (S 1: a run starts at 21), 9 (S 0: reset), 14 14 14 14 (S 3 6 9 12 > 10)
    const x = f64([...base, 11, 12, 9, 14, 14, 14, 14, 30]);
    const r = cusumOnset(x, { start: 0, end: 20 }, { start: 20, end: x.length });
    expect(r).to.deep.equal({ onset: 23, alarm: 26, mean: 10, sigma: 2 });
    // a bigger threshold alarms later, same run
    expect(
      cusumOnset(x, { start: 0, end: 20 }, { start: 20, end: x.length }, { k: 0.5, h: 7, minSigma: 1 }),
    ).to.include({ onset: 23, alarm: 27 });
  });

  it('no alarm -> -1; empty baseline -> mean 0 and sigma at the floor', () => {
    expect(cusumOnset(f64([5, 5, 5, 5]), { start: 0, end: 2 }, { start: 2, end: 4 }).onset).to.equal(-1);
    expect(
      cusumOnset(f64([0, 7]), { start: 0, end: 0 }, { start: 0, end: 2 }, { k: 0.5, h: 5, minSigma: 1 }),
    ).to.deep.equal({ onset: 1, alarm: 1, mean: 0, sigma: 1 });
    expect(() => cusumOnset(f64([1]), { start: 0, end: 2 }, { start: 0, end: 1 })).to.throw(RangeError);
    expect(meanStd(f64([1, 3]), 0, 2)).to.deep.equal({ mean: 2, std: 1 });
  });
});

describe('earlydetect: alert filter', () => {
  it('reported packets and bytes must reach 95% of the observed ones', () => {
    expect(reportMatches({ reported_packets: 95, reported_bytes: 1000 }, { packets: 100, bytes: 1000 })).to.equal(true);
    expect(reportMatches({ reported_packets: 94.9, reported_bytes: 1000 }, { packets: 100, bytes: 1000 })).to.equal(
      false,
    );
    expect(reportMatches({ reported_packets: 100, reported_bytes: 949 }, { packets: 100, bytes: 1000 })).to.equal(
      false,
    );
    expect(reportMatches({ reported_packets: 0, reported_bytes: 0 }, { packets: 0, bytes: 0 })).to.equal(true);
    expect(reportMatches({ reported_packets: 80, reported_bytes: 800 }, { packets: 100, bytes: 1000 }, 0.8)).to.equal(
      true,
    );
    expect(sumColumn(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 1, 1, 3)).to.equal(10);
  });
});

describe('earlydetect: example geometry', () => {
  const g = { windowLength: 20, detectLength: 5, minutes: 100 };
  const all = { start: 0, end: 100 };

  it('the attack window holds the onset and the alert start; random placement covers every valid end', () => {
    const ends = new Set<number>();
    for (let s = 0; s < 200; s++) ends.add(EX.placeAttack(50, 52, all, g, 'random', EX.seededRandom(s, 'a')) as number);
    expect([...ends].sort()).to.deep.equal([53, 54, 55]);
    expect(EX.placeAttack(52, 50, all, g, 'random', () => 0)).to.equal(53); // alert before the onset: same window range
  });

  it('fixed placement puts the onset at the given step, or gives up', () => {
    expect(EX.placeAttack(50, 52, all, g, 2, () => 0)).to.equal(53); // window 48..52: onset at step 2
    expect(EX.placeAttack(50, 52, all, g, 0, () => 0)).to.equal(55);
    expect(EX.placeAttack(50, 52, all, g, 4, () => 0)).to.equal(null); // window 46..50 misses the alert start
  });

  it('the detection window stays in the split and the whole example in the store', () => {
    expect(EX.validEnds({ start: 40, end: 60 }, g)).to.deep.equal({ lo: 45, hi: 60 });
    expect(EX.validEnds({ start: 0, end: 200 }, g)).to.deep.equal({ lo: 20, hi: 100 });
    expect(EX.placeAttack(50, 52, { start: 0, end: 54 }, g, 'random', () => 0.999)).to.equal(54);
    expect(EX.placeAttack(50, 52, { start: 51, end: 100 }, g, 'random', () => 0)).to.equal(null); // onset before the split
    expect(EX.placeAttack(3, 4, all, g, 'random', () => 0)).to.equal(null); // history would start before minute 0
  });

  it('freeEnds: ends whose whole example misses every blocked range', () => {
    // blocked [30, 35): example [e-10, e) overlaps it for e in 31..44
    expect(EX.freeEnds({ lo: 20, hi: 100 }, [{ start: 30, end: 35 }], 10)).to.deep.equal([
      { lo: 20, hi: 30 },
      { lo: 45, hi: 100 },
    ]);
    expect(
      EX.freeEnds(
        { lo: 20, hi: 100 },
        [
          { start: 60, end: 70 },
          { start: 30, end: 35 },
          { start: 33, end: 40 },
          { start: 200, end: 300 },
          { start: 5, end: 5 },
        ],
        10,
      ),
    ).to.deep.equal([
      { lo: 20, hi: 30 },
      { lo: 50, hi: 60 },
      { lo: 80, hi: 100 },
    ]);
    expect(EX.freeEnds({ lo: 20, hi: 30 }, [{ start: 0, end: 50 }], 10)).to.deep.equal([]);
  });

  it('pickFromIntervals draws uniformly over the union', () => {
    const iv = [
      { lo: 1, hi: 2 },
      { lo: 10, hi: 10 },
    ];
    expect([0, 0.34, 0.67, 0.999].map((u) => EX.pickFromIntervals(iv, () => u))).to.deep.equal([1, 2, 10, 10]);
    expect(EX.pickFromIntervals([], () => 0.5)).to.equal(null);
  });

  it('anomaly mask: onset to alert end, or the spoof list', () => {
    expect([...EX.anomalyMask(10, 5, 7, 8)]).to.deep.equal([0, 0, 1, 1, 0]);
    expect([...EX.anomalyMask(10, 5, 0, 100)]).to.deep.equal([1, 1, 1, 1, 1]);
    expect([...EX.anomalyMask(10, 5, 7, 8, new Set([5, 9, 12]))]).to.deep.equal([1, 0, 0, 0, 1]);
  });

  it('seededRandom is deterministic per (seed, key)', () => {
    const a = EX.seededRandom(1, 'x');
    const b = EX.seededRandom(1, 'x');
    const c = EX.seededRandom(2, 'x');
    const va = [a(), a(), a()];
    expect([b(), b(), b()]).to.deep.equal(va);
    expect(c()).to.not.equal(va[0]);
    expect(va.every((v) => v >= 0 && v < 1)).to.equal(true);
  });
});

describe('earlydetect: Table 2 and onset error', () => {
  it('counts nodes, examples, attacks by type per split', () => {
    // columns row, start, label, onsetStep, attackType, alert
    const train = Int32Array.from([0, 10, 1, 3, 2, 0, 0, 90, 0, -1, 2, 0, 4, 10, 1, 0, 0, 1, 4, 50, 0, -1, 0, 1]);
    const valid = Int32Array.from([7, 10, 0, -1, -1, -1]);
    const t = table2({ train, valid, test: new Int32Array(0) });
    expect(t.train).to.deep.equal({
      nodes: 2,
      examples: 4,
      attacks: 2,
      byType: { DNS: 1, NTP: 0, UDP: 1, SYN: 0, other: 0 },
      unseenExamples: 0,
    });
    expect(t.valid).to.include({ nodes: 1, examples: 1, attacks: 0, unseenExamples: 1 });
    const text = formatTable2(t, ['DNS', 'UDP', 'NTP']);
    expect(text).to.match(/Train\s+2\s+4\s+2\s+1\s+1\s+0\s+0/);
    expect(text).to.match(/Unseen-node/);
  });

  it('onset error statistics', () => {
    expect(onsetError([], 0)).to.equal(null);
    expect(onsetError([0, -1, 2, -6], 1)).to.deep.equal({
      count: 4,
      noAlarm: 1,
      meanSigned: -1.25,
      meanAbs: 2.25,
      medianAbs: 1.5,
      exact: 0.25,
      within1: 0.5,
      within5: 0.75,
    });
  });
});

describe('earlydetect: reading alerts and ground truth', () => {
  const tmp = tempDir('netflowgen-alerts-');
  after(() => tmp.cleanup());
  const good = {
    alert_id: 'a1',
    victim: '10.0.0.1',
    customer: 'A',
    attack_type: 'UDP',
    start: '2021-09-21T15:45:00Z',
    end: '2021-09-21T15:50:00Z',
    reported_packets: 10,
    reported_bytes: 1000,
    false_positive: false,
  };
  const write = (name: string, lines: unknown[]) => {
    const p = join(tmp.dir, name);
    writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return p;
  };

  it('parses the contract format', () => {
    const a = readAlerts(write('ok.jsonl', [good, '', { ...good, alert_id: 'a2', false_positive: true }]));
    expect(a.length).to.equal(2);
    expect(a[0]).to.include({
      alert_id: 'a1',
      startMinute: isoToMinute('2021-09-21T15:45:00Z'),
      endMinute: isoToMinute('2021-09-21T15:50:00Z'),
      line: 1,
    });
    expect(a[1].line).to.equal(3);
  });

  it('bad lines fail with file, line and field', () => {
    const cases: [unknown, RegExp][] = [
      ['{not json', /bad1\.jsonl:2: format: not JSON/],
      [
        { ...good, attack_type: 'HTTP' },
        /:2: format in field 'attack_type': expected one of DNS, NTP, UDP, SYN, other/,
      ],
      [{ ...good, reported_bytes: -1 }, /:2: format in field 'reported_bytes'/],
      [{ ...good, start: 'yesterday' }, /:2: format in field 'start'/],
      [{ ...good, end: '2021-09-21T15:00:00Z' }, /:2: format in field 'end': alert ends/],
      [{ ...good, false_positive: 'no' }, /field 'false_positive'/],
      [{ ...good }, /field 'alert_id': duplicate/],
      [
        { ...good, alert_id: 'a9', start: '2021-09-21T15:45:30Z' },
        /bad8\.jsonl:2: does not match alerts\.schema\.json:\n {2}- \/start: must match pattern/,
      ],
      [
        { ...good, alert_id: 'a9', extra: 1 },
        /bad9\.jsonl:2: does not match alerts\.schema\.json:\n {2}- \(top level\): unknown key 'extra'/,
      ],
    ];
    cases.forEach(([line, re], i) => expect(() => readAlerts(write(`bad${i + 1}.jsonl`, [good, line]))).to.throw(re));
    expect(() => readAlerts(join(tmp.dir, 'missing.jsonl'))).to.throw(/missing\.jsonl: io/);
  });

  it('ground truth: onset, end and the spoof list', () => {
    const p = write('gt.jsonl', [
      {
        alert_id: null,
        victim: '10.0.0.1',
        attack_type: 'DNS',
        onset: '2021-09-21T15:45:00Z',
        end: '2021-09-21T15:46:00Z',
        minutes: [{ minute: '2021-09-21T15:45:00Z', packets: 1, bytes: 2, flows: 1 }],
      },
    ]);
    const g = readGroundTruth(p);
    expect(g[0].alert_id).to.equal(null);
    expect(g[0].minutes[0]).to.deep.equal({
      minute: isoToMinute('2021-09-21T15:45:00Z'),
      packets: 1,
      bytes: 2,
      flows: 1,
    });
    const bad = write('gtbad.jsonl', [
      {
        alert_id: 'x',
        victim: 'v',
        attack_type: 'DNS',
        onset: '2021-09-21T15:45:00Z',
        end: '2021-09-21T15:46:00Z',
        minutes: [{ minute: 'x' }],
      },
    ]);
    expect(() => readGroundTruth(bad)).to.throw(/gtbad\.jsonl:1: format in field 'minutes\[0\]\.minute'/);
  });
});

describe('earlydetect: the dataset from a hand-made store, alerts and ground truth', function () {
  this.timeout(60_000);
  const tmp = tempDir('netflowgen-earlydetect-');
  after(() => tmp.cleanup());
  const F = FEATURE_NAMES.length;
  const T = 600;
  const START = isoToMinute('2021-09-20T00:00:00Z');
  const iso = (m: number) => minuteToIso(START + m);
  const [UDP, BYT, PKT] = ['in.udp.byt', 'in.byt', 'in.pkt'].map(featureIndex);
  // node 0: victim of a UDP attack at 200-215 (alert from 203) and of a mismatched one at 450-460;
  // node 1: victim of a UDP attack at 400-410 (valid split); node 2: silent in training -> unseen.
  const attack = (v: number, t: number) =>
    (v === 0 && ((t >= 200 && t <= 215) || (t >= 450 && t <= 460))) || (v === 1 && t >= 400 && t <= 410);
  const udp = (v: number, t: number) =>
    v === 2 ? (t >= 360 ? 300 : 0) : (v === 0 ? 1000 : 500) + (attack(v, t) ? 1e6 : 0);
  const store = join(tmp.dir, 'store');
  const dataset = join(tmp.dir, 'ds');
  const alertsPath = join(tmp.dir, 'alerts.jsonl');
  const truthPath = join(tmp.dir, 'truth.jsonl');
  const alert = (id: string, victim: string, type: string, s: number, e: number, more: object = {}) => ({
    alert_id: id,
    victim,
    customer: 'A',
    attack_type: type,
    start: iso(s),
    end: iso(e),
    reported_packets: 1e9,
    reported_bytes: 1e12,
    false_positive: false,
    ...more,
  });
  let m: EarlyDetectManifest;
  const examples = (dir: string, s: string) => {
    const b = readFileSync(join(dir, `${s}.examples.i32`));
    return [...new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4)];
  };

  before(async () => {
    const data = new Float32Array(3 * T * F);
    for (let v = 0; v < 3; v++)
      for (let t = 0; t < T; t++) {
        const o = (v * T + t) * F;
        data[o + UDP] = udp(v, t);
        data[o + BYT] = udp(v, t) + (v === 2 ? 0 : 500);
        data[o + PKT] = data[o + BYT] / 100;
      }
    await writeHandMadeStore(store, {
      nodes: ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((address) => ({ address, customer: 'A' })),
      startMinute: START,
      minutes: T,
      data,
    });
    await buildBinnedDataset({ store, out: dataset, split: '0.6,0.2,0.2', windowLength: 64, unseen: true });
    writeFileSync(
      alertsPath,
      [
        alert('a1', '10.0.0.1', 'UDP', 203, 215),
        alert('a2', '10.0.0.1', 'DNS', 450, 460, { reported_bytes: 10 }), // reports far less than the traffic: mismatch
        alert('a3', '10.0.0.2', 'NTP', 401, 410),
        alert('fp', '10.0.0.1', 'UDP', 100, 105, { false_positive: true }),
        alert('u', '10.9.9.9', 'UDP', 100, 105),
        alert('o', '10.0.0.2', 'other', 100, 105),
      ]
        .map((a) => JSON.stringify(a))
        .join('\n') + '\n',
    );
    const spoof = (s: number, e: number) =>
      Array.from({ length: e - s + 1 }, (_, i) => ({ minute: iso(s + i), packets: 1e4, bytes: 1e6, flows: 10 }));
    writeFileSync(
      truthPath,
      [
        {
          alert_id: 'a1',
          victim: '10.0.0.1',
          attack_type: 'UDP',
          onset: iso(200),
          end: iso(215),
          minutes: spoof(200, 215),
        },
        {
          alert_id: 'a3',
          victim: '10.0.0.2',
          attack_type: 'NTP',
          onset: iso(400),
          end: iso(410),
          minutes: spoof(400, 410),
        },
        {
          alert_id: null,
          victim: '10.0.0.1',
          attack_type: 'UDP',
          onset: iso(300),
          end: iso(305),
          minutes: spoof(300, 305),
        },
      ]
        .map((a) => JSON.stringify(a))
        .join('\n') + '\n',
    );
    m = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      groundTruth: truthPath,
      out: join(tmp.dir, 'ed'),
      detectLength: 10,
      attackTypes: ['DNS', 'UDP', 'NTP'],
      unseenExamples: 1,
      negatives: 'ground-truth',
    });
  });

  it('filters alerts as SPEC §6 says and finds the onsets with CUSUM', () => {
    expect(m.dropped).to.include({ false_positive: 1, mismatch: 1, unknown_victim: 1, attack_type: 1 });
    expect(m.alerts.map((a) => [a.alert_id, a.split, a.onset, a.onsetSource, a.truthOnset])).to.deep.equal([
      ['a1', 'train', 200, 'cusum', 200],
      ['a3', 'valid', 400, 'cusum', 400],
    ]);
    expect(m.onsetError).to.deep.include({ count: 2, exact: 1, meanAbs: 0 });
  });

  it('one attack and one non-attack example per alert; the detection window holds onset and alert start', () => {
    const tr = examples(join(tmp.dir, 'ed'), 'train');
    expect(tr.length).to.equal(12);
    const [row, start, label, step, type, idx] = tr.slice(0, 6);
    expect([row, label, type, idx]).to.deep.equal([0, 1, 2 /* UDP */, 0]);
    const first = start + 64 - 10; // detection window [first, first + 10)
    expect(first).to.be.at.most(200);
    expect(first + 9).to.be.at.least(203);
    expect(step).to.equal(200 - first);
    expect(m.alerts[0].attackStart).to.equal(start);
    const [nrow, nstart, nlabel, nstep] = tr.slice(6, 12);
    expect([nrow, nlabel, nstep]).to.deep.equal([0, 0, -1]);
    // negatives 'ground-truth': the whole non-attack example avoids a1, a2, the false positive and the unalerted true attack, 30 minutes around each
    for (const [s, e] of [
      [203, 215],
      [450, 460],
      [100, 105],
      [200, 215],
      [300, 305],
    ])
      expect(nstart + 64 <= s - 30 || nstart >= e + 1 + 30, `${nstart} vs ${s}-${e}`).to.equal(true);
    expect(nstart + 64).to.be.at.most(360); // detection window in the training split
  });

  it('anomaly mask from the spoof list and incoming bytes per minute', () => {
    const mask = [...readFileSync(join(tmp.dir, 'ed', 'train.mask.u8'))];
    const tb = readFileSync(join(tmp.dir, 'ed', 'train.traffic.f32'));
    const traffic = new Float32Array(tb.buffer.slice(tb.byteOffset, tb.byteOffset + tb.byteLength));
    const first = m.alerts[0].attackStart + 54;
    expect(mask.slice(0, 10)).to.deep.equal(Array.from({ length: 10 }, (_, i) => (first + i >= 200 ? 1 : 0)));
    expect(mask.slice(10, 20)).to.deep.equal(new Array(10).fill(0));
    expect([...traffic.slice(0, 10)]).to.deep.equal(Array.from({ length: 10 }, (_, i) => udp(0, first + i) + 500));
    expect([...traffic.slice(10, 20)]).to.deep.equal(new Array(10).fill(1500));
  });

  it('Table 2, with the unseen-node examples counted apart', () => {
    expect(m.table2.train).to.deep.include({ nodes: 1, examples: 2, attacks: 1, unseenExamples: 0 });
    expect(m.table2.train.byType.UDP).to.equal(1);
    expect(m.table2.valid).to.deep.include({ nodes: 2, examples: 3, attacks: 1, unseenExamples: 1 });
    expect(m.table2.valid.byType.NTP).to.equal(1);
    expect(m.table2.test).to.deep.include({ nodes: 1, examples: 1, attacks: 0, unseenExamples: 1 });
    const v = examples(join(tmp.dir, 'ed'), 'valid');
    expect(v.slice(12, 18)).to.include.members([2, 0, -1]); // row 2 (unseen), label 0, alert -1
  });

  it('the same seed gives the same examples; a fixed placement puts the onset at its step', async () => {
    const again = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      groundTruth: truthPath,
      out: join(tmp.dir, 'ed2'),
      detectLength: 10,
      attackTypes: ['DNS', 'UDP', 'NTP'],
      unseenExamples: 1,
      negatives: 'ground-truth',
    });
    expect(examples(join(tmp.dir, 'ed2'), 'train')).to.deep.equal(examples(join(tmp.dir, 'ed'), 'train'));
    expect(again.alerts).to.deep.equal(m.alerts);
    const fixed = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      out: join(tmp.dir, 'ed3'),
      detectLength: 10,
      attackTypes: ['DNS', 'UDP', 'NTP'],
      placement: 3,
    });
    expect(examples(join(tmp.dir, 'ed3'), 'train')[3]).to.equal(3);
    expect(fixed.onsetError).to.equal(null); // no ground truth given
    // without a spoof list, the mask runs from the onset to the alert end
    const mask = [...readFileSync(join(tmp.dir, 'ed3', 'train.mask.u8'))].slice(0, 10);
    expect(mask).to.deep.equal([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  });

  // node 0's training minutes free of alerts (30-minute margin) leave window ends 64..70 and 310..360; an
  // unalerted true attack over minutes 40..359 covers all of them.
  const longTruth = () => {
    const p = join(tmp.dir, 'truth-long.jsonl');
    const spoof = (s: number, e: number) =>
      Array.from({ length: e - s + 1 }, (_, i) => ({ minute: iso(s + i), packets: 1, bytes: 100, flows: 1 }));
    const extra = {
      alert_id: null,
      victim: '10.0.0.1',
      attack_type: 'UDP',
      onset: iso(40),
      end: iso(359),
      minutes: spoof(40, 359),
    };
    writeFileSync(p, readFileSync(truthPath, 'utf8') + JSON.stringify(extra) + '\n');
    return p;
  };

  it("negatives 'alerts' (the default): a non-attack example may hold an unalerted true attack; counted, label 0, mask all zero", async () => {
    const out = join(tmp.dir, 'ed-alerts');
    const a = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      groundTruth: longTruth(),
      out,
      detectLength: 10,
      attackTypes: ['DNS', 'UDP', 'NTP'],
      unseenExamples: 1,
    });
    expect(a.negatives).to.equal('alerts');
    expect(a.alerts.map((x) => x.alert_id)).to.deep.equal(['a1', 'a3']);
    const tr = examples(out, 'train');
    const [nrow, nstart, nlabel] = tr.slice(6, 9);
    expect([nrow, nlabel]).to.deep.equal([0, 0]);
    expect(nstart + 64 <= 70 || nstart + 64 >= 310, `end ${nstart + 64}`).to.equal(true); // clear of every alert, 30 minutes around
    expect(nstart < 360 && nstart + 64 > 40).to.equal(true); // and overlapping the unalerted attack
    expect(a.negativesOverlappingTrueAttacks).to.deep.equal({ train: 1, valid: 0, test: 0 });
    expect(a.negativesTrueAttackInDetectionWindow).to.deep.equal({ train: 1, valid: 0, test: 0 });
    expect([...readFileSync(join(out, 'train.mask.u8'))].slice(10, 20)).to.deep.equal(new Array(10).fill(0));
    // the first build had no such attack: nothing overlaps
    expect(m.negatives).to.equal('ground-truth');
    expect(m.negativesOverlappingTrueAttacks).to.deep.equal({ train: 0, valid: 0, test: 0 });
  });

  it("negatives 'ground-truth': no window is free of the long unalerted attack, so the pair is dropped", async () => {
    const g = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      groundTruth: longTruth(),
      out: join(tmp.dir, 'ed-gt'),
      detectLength: 10,
      attackTypes: ['DNS', 'UDP', 'NTP'],
      negatives: 'ground-truth',
    });
    expect(g.alerts.map((x) => x.alert_id)).to.deep.equal(['a3']);
    expect(g.dropped.no_free_window).to.equal(1);
    expect(g.negativesOverlappingTrueAttacks).to.deep.equal({ train: 0, valid: 0, test: 0 });
  });

  it("negatives 'ground-truth' without a ground truth file fails with a clear message; no ground truth, no count", async () => {
    const err = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      out: join(tmp.dir, 'ed-nogt'),
      detectLength: 10,
      negatives: 'ground-truth',
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/--negatives ground-truth needs --ground-truth/);
    const bad = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      out: join(tmp.dir, 'ed-bad'),
      detectLength: 10,
      negatives: 'clean' as never,
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(bad?.message).to.match(/--negatives must be one of alerts, ground-truth/);
    const plain = await buildEarlyDetect({
      dataset,
      alerts: alertsPath,
      out: join(tmp.dir, 'ed-plain'),
      detectLength: 10,
    });
    expect(plain).to.include({
      negatives: 'alerts',
      negativesOverlappingTrueAttacks: null,
      negativesTrueAttackInDetectionWindow: null,
    });
  });
});
