import { expect } from 'chai';
import { isoToMinute } from '../ts/serialize/store.js';
import { nodeActivity, selectNodes, type NodeActivity } from '../ts/splits/filters.js';
import {
  parseSplitSpec,
  splitOf,
  splitsFromDates,
  splitsFromFractions,
  timeFeatureTable,
  timeFeatures,
  windowPairs,
  windowStarts,
} from '../ts/splits/splits.js';
import { formatTable1, table1 } from '../ts/splits/summary.js';
import { formatTable } from '../ts/splits/table.js';

describe('splits: time-axis splits', () => {
  it("the paper's sizes come back from its own fractions", () => {
    const T = 132_480;
    const s = splitsFromFractions(T, [95_232 / T, 10_752 / T, 26_496 / T]);
    expect(s.train).to.deep.equal({ start: 0, end: 95_232 });
    expect(s.valid).to.deep.equal({ start: 95_232, end: 105_984 });
    expect(s.test).to.deep.equal({ start: 105_984, end: T });
  });

  it('fractions: cumulative floor boundaries, test takes the rest', () => {
    expect(splitsFromFractions(1000, [0.72, 0.08, 0.2])).to.deep.equal({
      train: { start: 0, end: 720 },
      valid: { start: 720, end: 800 },
      test: { start: 800, end: 1000 },
    });
    expect(splitsFromFractions(7, [0.5, 0.25, 0.25])).to.deep.equal({
      train: { start: 0, end: 3 },
      valid: { start: 3, end: 5 },
      test: { start: 5, end: 7 },
    });
    expect(() => splitsFromFractions(10, [0.5, 0.5, 0.5])).to.throw(/sum to 1/);
    expect(() => splitsFromFractions(10, [0.5, 0.5])).to.throw(/three numbers/);
  });

  it('dates: validation and test start at the given minutes, clamped to the store', () => {
    const start = isoToMinute('2021-09-21T00:00:00Z');
    const s = splitsFromDates(
      start,
      3 * 1440,
      isoToMinute('2021-09-22T00:00:00Z'),
      isoToMinute('2021-09-23T00:00:00Z'),
    );
    expect(s).to.deep.equal({
      train: { start: 0, end: 1440 },
      valid: { start: 1440, end: 2880 },
      test: { start: 2880, end: 4320 },
    });
    const c = splitsFromDates(start, 100, start - 50, start + 1000);
    expect(c).to.deep.equal({
      train: { start: 0, end: 0 },
      valid: { start: 0, end: 100 },
      test: { start: 100, end: 100 },
    });
    expect(() => splitsFromDates(start, 100, start + 10, start + 5)).to.throw(/in order/);
  });

  it('parseSplitSpec reads fractions or two dates and records the rule', () => {
    const start = isoToMinute('2021-09-21T00:00:00Z');
    const f = parseSplitSpec('0.6, 0.2, 0.2', start, 100);
    expect(f.rule).to.deep.equal({ kind: 'fractions', fractions: [0.6, 0.2, 0.2] });
    expect(f.splits.valid).to.deep.equal({ start: 60, end: 80 });
    const d = parseSplitSpec('2021-09-21T01:00:00Z,2021-09-21T01:30Z', start, 120);
    expect(d.rule).to.deep.equal({ kind: 'dates', dates: ['2021-09-21T01:00:00Z', '2021-09-21T01:30:00Z'] });
    expect(d.splits.test).to.deep.equal({ start: 90, end: 120 });
    expect(() => parseSplitSpec('0.5', start, 10)).to.throw(/--split/);
  });

  it('splitOf', () => {
    const s = splitsFromFractions(10, [0.5, 0.3, 0.2]);
    expect([0, 4, 5, 7, 8, 9, 10, -1].map((m) => splitOf(m, s))).to.deep.equal([
      'train',
      'train',
      'valid',
      'valid',
      'test',
      'test',
      null,
      null,
    ]);
  });
});

describe('splits: windows', () => {
  it('non-overlapping windows from the split start; a partial tail is dropped', () => {
    expect([...windowStarts({ start: 10, end: 1034 }, 512)]).to.deep.equal([10, 522]);
    expect([...windowStarts({ start: 0, end: 1023 }, 512)]).to.deep.equal([0]);
    expect([...windowStarts({ start: 0, end: 511 }, 512)]).to.deep.equal([]);
    expect([...windowStarts({ start: 5, end: 5 }, 512)]).to.deep.equal([]);
    expect(windowStarts({ start: 0, end: 95_232 }, 512).length).to.equal(186); // the paper's 186 windows per node
    expect([...windowStarts({ start: 0, end: 10 }, 4, 2)]).to.deep.equal([0, 2, 4, 6]);
    expect(() => windowStarts({ start: 0, end: 10 }, 0)).to.throw(/positive/);
  });

  it('windowPairs: (row, start) row-major', () => {
    expect([...windowPairs([3, 7], Int32Array.from([0, 20]))]).to.deep.equal([3, 0, 3, 20, 7, 0, 7, 20]);
  });
});

describe('splits: time features', () => {
  it('minute of hour, hour of day, day of week with Monday = 0 (UTC)', () => {
    expect(timeFeatures(isoToMinute('2021-09-21T15:45:00Z'))).to.deep.equal([45, 15, 1]); // a Tuesday
    expect(timeFeatures(isoToMinute('2021-09-20T00:00:00Z'))).to.deep.equal([0, 0, 0]); // a Monday
    expect(timeFeatures(isoToMinute('2021-09-26T23:59:00Z'))).to.deep.equal([59, 23, 6]); // a Sunday
    expect(timeFeatures(0)).to.deep.equal([0, 0, 3]); // 1970-01-01, a Thursday
    expect(timeFeatures(-1)).to.deep.equal([59, 23, 2]); // the Wednesday before
  });
  it('timeFeatureTable is [minutes, 3]', () => {
    const t = timeFeatureTable(isoToMinute('2021-09-19T23:58:00Z'), 3); // Sunday 23:58, 23:59, Monday 00:00
    expect([...t]).to.deep.equal([58, 23, 6, 59, 23, 6, 0, 0, 0]);
  });
});

describe('splits: node and customer filters', () => {
  it('nodeActivity counts minutes with any traffic and their bytes', () => {
    // 4 minutes x 3 columns; byte columns 1 and 2
    const s = Float32Array.from([0, 0, 0, 1, 10, 0, 0, 0, 5, 0, 0, 0]);
    expect(nodeActivity(s, 3, 0, 4, [1, 2])).to.deep.equal({ activeMinutes: 2, minutes: 4, bytes: 15 });
    expect(nodeActivity(s, 3, 2, 4, [1])).to.deep.equal({ activeMinutes: 1, minutes: 2, bytes: 0 });
    expect(nodeActivity(s, 3, 0, 4, [])).to.deep.equal({ activeMinutes: 2, minutes: 4, bytes: 16 }); // all columns
  });

  const act = (activeMinutes: number, bytes: number): NodeActivity => ({ activeMinutes, minutes: 100, bytes });
  const customers = ['A', 'A', 'B', 'C', 'C', 'D'];
  const activity = [act(50, 10), act(5, 1000), act(100, 1e6), act(0, 0), act(30, 10), act(80, 500)];

  it('excluded customers, then the activity threshold (no activity is always dropped)', () => {
    const s = selectNodes(customers, activity, { excludeCustomers: ['B'], minActive: 0.1 });
    expect(s.kept).to.deep.equal([0, 4, 5]);
    expect(Object.fromEntries(s.dropped)).to.deep.equal({ 1: 'inactive', 2: 'excluded_customer', 3: 'inactive' });
    expect(selectNodes(customers, activity).kept).to.deep.equal([0, 1, 2, 4, 5]);
  });

  it('top-K keeps the most bytes (ties in store order) and returns store order', () => {
    const s = selectNodes(customers, activity, { excludeCustomers: ['B'], topK: 3 });
    // bytes: node 1 1000, node 5 500, nodes 0 and 4 tie at 10 -> node 0 (store order)
    expect(s.kept).to.deep.equal([0, 1, 5]);
    expect(s.dropped.get(4)).to.equal('top_k');
  });

  it('rejects bad options', () => {
    expect(() => selectNodes(customers, activity, { minActive: 2 })).to.throw(/min-active/);
    expect(() => selectNodes(customers, activity, { topK: 0 })).to.throw(/top-k/);
    expect(() => selectNodes(['A'], activity)).to.throw();
  });
});

describe('splits: Table 1', () => {
  it('node-windows raw and filtered', () => {
    const splits = splitsFromFractions(2000, [0.6, 0.2, 0.2]);
    const t = table1({ customers: ['A', 'A', 'B', 'C'] }, { customers: ['A', 'C'] }, splits, 100);
    expect(t.minutes).to.deep.equal({ train: 1200, valid: 400, test: 400 });
    expect(t.windowsPerNode).to.deep.equal({ train: 12, valid: 4, test: 4 });
    expect(t.raw).to.deep.equal({ customers: 3, nodes: 4, windows: { train: 48, valid: 16, test: 16 } });
    expect(t.filtered).to.deep.equal({ customers: 2, nodes: 2, windows: { train: 24, valid: 8, test: 8 } });
    const text = formatTable1(t);
    expect(text).to.match(/Training Size\s+48\s+24/);
    expect(text).to.match(/Customer\s+3\s+2/);
  });
  it('formatTable aligns and separates thousands', () => {
    expect(
      formatTable(
        ['', 'n'],
        [
          ['a', 1297350],
          ['bb', 5],
        ],
      ),
    ).to.equal('            n\na   1,297,350\nbb          5\n');
  });
});
