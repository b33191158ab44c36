// synth-report runs over a series store made by serialize: figures of a hand-made store computed by hand,
// the same figures from a synth folder and from the store serialize makes of it, and its errors.
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, featureIndex } from '../ts/catalogue/features.js';
import { serialize } from '../ts/serialize/serialize.js';
import { isoToMinute, minuteToIso, writeSeriesStore } from '../ts/serialize/store.js';
import { formatReport, synthReport } from '../ts/synth/report.js';
import { synth } from '../ts/synth/synth.js';
import { useTempDir } from './helpers/tmp.js';

describe('synth-report over a series store', function () {
  this.timeout(120_000);
  const tmp = useTempDir('netflowgen-synth-report-');
  const START = isoToMinute('2021-09-06T00:00:00Z'); // a Monday, 00:00 UTC
  const T = 180;
  const F = FEATURE_NAMES.length;
  const [BYT, FLOW] = [featureIndex('in.byt'), featureIndex('in.flow')];

  /** Two web nodes over three hours: A alternates 10 and 0 bytes; B sends 4 a minute, 1000 in its attack (minutes 60-119). */
  async function handMade(): Promise<string> {
    const dir = join(tmp.dir, 'hand');
    const data = new Float32Array(2 * T * F);
    for (let t = 0; t < T; t++) {
      const a = t % 2 ? 0 : 10;
      const b = t >= 60 && t < 120 ? 1000 : 4;
      data[t * F + BYT] = a;
      data[t * F + FLOW] = a ? 2 : 0;
      data[(T + t) * F + BYT] = b;
      data[(T + t) * F + FLOW] = 2;
    }
    await writeSeriesStore(
      dir,
      {
        features: [...FEATURE_NAMES],
        startMinute: START,
        minutes: T,
        nodes: [
          { id: 0, address: '10.0.0.1', customer: 'c1', role: 'web' },
          { id: 1, address: '10.0.0.2', customer: 'c1', role: 'web' },
        ],
        customers: ['c1'],
        sampling: 2,
        inputs: [],
        records: { read: 0, used: 0, unmatched: 0, outsideRange: 0, rejected: {}, examples: [] },
        options: {},
        data,
      },
      { overwrite: true },
    );
    const truth = {
      alert_id: 'A00001',
      victim: '10.0.0.2',
      attack_type: 'UDP',
      onset: minuteToIso(START + 60),
      end: minuteToIso(START + 119),
      minutes: [{ minute: minuteToIso(START + 60), packets: 1, bytes: 1000, flows: 1 }],
    };
    writeFileSync(join(tmp.dir, 'truth.jsonl'), JSON.stringify(truth) + '\n');
    return dir;
  }

  it('computes the figures of a hand-made store, leaving the attack minutes and their hours out', async () => {
    const dir = await handMade();
    const r = await synthReport(dir, { groundTruth: join(tmp.dir, 'truth.jsonl') });
    expect(r.roles).to.have.length(1);
    const web = r.roles[0];
    expect([web.role, web.nodes]).to.deep.equal(['web', 2]);
    // A: half its minutes zero, values 0 and 10 (mean 5, sd 5: CV 1); B without its attack: constant 4 (CV 0).
    expect(web.figures.zeroMinutes).to.equal((0.5 + 0) / 2);
    expect(web.figures.cvMinutes).to.be.closeTo((1 + 0) / 2, 1e-12);
    // hourly: A sums 300 each hour (CV 0); B's hour 1 is out, its hours 0 and 2 sum 240 (CV 0)
    expect(web.figures.cvHours).to.equal(0);
    expect(web.figures.zeroHours).to.equal(0);
    // the sum: 14, 4, 14, 4 ... in hours 0 and 2; 10, 0, 10, 0 in hour 1 (B's attack left out): 30 zero minutes
    expect(r.total.zeroMinutes).to.be.closeTo(30 / 180, 1e-12);
    const hourly = [540, 300, 540];
    const mean = (540 + 300 + 540) / 3;
    const sd = Math.sqrt(hourly.reduce((s, h) => s + (h - mean) ** 2, 0) / 3);
    expect(r.total.cvHours).to.be.closeTo(sd / mean, 1e-12);
    // records: in.flow over the sampling, (90 * 2 + 180 * 2) / 2
    expect(r.records).to.equal(270);
    expect([r.minutes, r.firstMinute, r.groundTruth]).to.deep.equal([
      T,
      '2021-09-06T00:00:00Z',
      join(tmp.dir, 'truth.jsonl'),
    ]);
    expect(formatReport(r)).to.contain('Attack minutes (truth.jsonl) left out');

    // With the attack: B's minutes are 4 and 1000, no longer constant.
    const all = await synthReport(dir, { groundTruth: join(tmp.dir, 'truth.jsonl'), includeAttacks: true });
    const mB = (120 * 4 + 60 * 1000) / 180;
    const sdB = Math.sqrt((120 * (4 - mB) ** 2 + 60 * (1000 - mB) ** 2) / 180);
    expect(all.roles[0].figures.cvMinutes).to.be.closeTo((1 + sdB / mB) / 2, 1e-9);
    expect(all.groundTruth).to.equal(null);
    expect(formatReport(all)).to.contain('Attack minutes included.');
  });

  it('gives the same figures over a synth folder and over the store serialize makes of it', async () => {
    const out = join(tmp.dir, 'synth');
    const m = await synth({
      out,
      preset: 'tiny',
      seed: 4,
      customers: 2,
      nodes: 8,
      minutes: 1440,
      attacks: 3,
      progress: false,
    });
    const store = join(tmp.dir, 'store');
    const to = minuteToIso(isoToMinute(m.firstMinute) + m.minutes);
    await serialize({
      inputs: [join(out, 'flows')],
      nodes: join(out, 'nodes.csv'),
      out: store,
      from: m.firstMinute,
      to,
    });
    const fromSynth = await synthReport(out);
    const fromStore = await synthReport(store);
    // the store's ground truth is found beside the flows/ folder it was made from
    expect(fromStore.groundTruth).to.equal(join(out, 'ground-truth.jsonl'));
    expect({ ...fromStore, dir: '' }).to.deep.equal({ ...fromSynth, dir: '' });
    // an independent count: the flow lines whose destination (nfdump CSV field da) is a node
    const nodes = new Set(
      readFileSync(join(out, 'nodes.csv'), 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    let incoming = 0;
    for (const f of readdirSync(join(out, 'flows')))
      for (const line of readFileSync(join(out, 'flows', f), 'utf8')
        .split('\n')
        .slice(1))
        if (line && nodes.has(line.split(',')[4])) incoming++;
    expect(fromSynth.records).to.equal(incoming);
    expect(fromSynth.roles.reduce((s, g) => s + g.nodes, 0)).to.equal(8);
  });

  it('names what is wrong', async () => {
    const dir = await handMade();
    writeFileSync(
      join(tmp.dir, 'other.jsonl'),
      JSON.stringify({ victim: '10.9.9.9', onset: minuteToIso(START), end: minuteToIso(START) }) + '\n',
    );
    let err = await synthReport(dir, { groundTruth: join(tmp.dir, 'other.jsonl') }).catch((e: Error) => e);
    expect(String(err)).to.match(/other\.jsonl:1: victim 10\.9\.9\.9 is not a node of the series store/);
    err = await synthReport(tmp.dir).catch((e: Error) => e);
    expect(String(err)).to.match(/neither a series store \(manifest\.json\) nor a synth output folder \(synth\.json\)/);
  });
});
