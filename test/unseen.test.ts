import { expect } from 'chai';
import { mapNearest, nearestL1 } from '../ts/unseen/nearest.js';
import { formatTable7, table7 } from '../ts/unseen/report.js';
import { emptyMoments, featureMoments, mergeMoments, momentsStd, summarizeNode } from '../ts/unseen/summary.js';

describe('unseen: moments and node summaries', () => {
  // 4 minutes x 2 columns, minute-major
  const a = Float32Array.from([1, 10, 2, 10, 3, 10, 4, 10]);
  const b = Float32Array.from([5, 0, 6, 20]);

  it('featureMoments: mean and squared deviations per selected column over a range', () => {
    const m = featureMoments(a, 2, [0, 1], 0, 4);
    expect(m.n).to.equal(4);
    expect([...m.mean]).to.deep.equal([2.5, 10]);
    expect([...m.m2]).to.deep.equal([5, 0]);
    expect([...momentsStd(m)]).to.deep.equal([Math.sqrt(5 / 4), 0]);
    const r = featureMoments(a, 2, [0], 1, 3);
    expect([r.n, r.mean[0], r.m2[0]]).to.deep.equal([2, 2.5, 0.5]);
  });

  it('mergeMoments equals the moments of the concatenation', () => {
    const merged = mergeMoments(featureMoments(a, 2, [0, 1], 0, 4), featureMoments(b, 2, [0, 1], 0, 2));
    const all = featureMoments(Float32Array.from([...a, ...b]), 2, [0, 1], 0, 6);
    expect(merged.n).to.equal(6);
    for (let f = 0; f < 2; f++) {
      expect(merged.mean[f]).to.be.closeTo(all.mean[f], 1e-12);
      expect(merged.m2[f]).to.be.closeTo(all.m2[f], 1e-9);
    }
    expect(mergeMoments(emptyMoments(2), all).mean).to.deep.equal(all.mean);
  });

  it('summarizeNode: standardised quantiles averaged over features; std 0 contributes 0', () => {
    const q = Float64Array.from([0, 1, 2, 3, 4, /* feature 2 */ 7, 7, 7, 7, 7]);
    const s = summarizeNode(q, Float64Array.from([1, 7]), Float64Array.from([1, 0]));
    expect([...s]).to.deep.equal([-0.5, 0, 0.5, 1, 1.5]);
    const s2 = summarizeNode(Float64Array.from([0, 0, 0, 10, 20]), Float64Array.from([5]), Float64Array.from([5]));
    expect([...s2]).to.deep.equal([-1, -1, -1, 1, 3]);
    expect(() => summarizeNode(new Float64Array(4), new Float64Array(1), new Float64Array(1))).to.throw();
  });
});

describe('unseen: L1 nearest neighbour', () => {
  const refs = Float64Array.from([0, 0, 10, 10, 1, 1]); // 3 rows of 2
  it('finds the smallest L1 distance, ties to the lowest index', () => {
    expect(nearestL1([0.4, 0.4], refs, 2)).to.deep.equal({ index: 0, distance: 0.8 });
    expect(nearestL1([0.5, 0.5], refs, 2)).to.deep.equal({ index: 0, distance: 1 }); // tie with row 2
    expect(nearestL1([9, 3], refs, 2)).to.deep.equal({ index: 1, distance: 8 });
    // L1, not L2: (3, 0) is nearer than (2, 2) in L1 (3 < 4), farther in L2 (9 > 8)
    expect(nearestL1([0, 0], Float64Array.from([3, 0, 2, 2]), 2)).to.deep.equal({ index: 0, distance: 3 });
  });
  it('mapNearest maps every query row', () => {
    const m = mapNearest(Float64Array.from([9, 9, 1, 0.9]), refs, 2);
    expect([...m.index]).to.deep.equal([1, 2]);
    expect(m.distance[1]).to.be.closeTo(0.1, 1e-12);
  });
  it('rejects shape errors and an empty reference set', () => {
    expect(() => nearestL1([1], refs, 2)).to.throw();
    expect(() => nearestL1([1, 1], new Float64Array(0), 2)).to.throw(/no reference/);
  });
});

describe('unseen: Table 7', () => {
  it('per training node: attacks received and unseen nodes mapped, most mapped first', () => {
    const rows = table7(['a', 'b', 'c'], [2, 2, 0, 2], [4, 0, 155]);
    expect(rows).to.deep.equal([
      { row: 2, address: 'c', attacks: 155, mappedUnseen: 3 },
      { row: 0, address: 'a', attacks: 4, mappedUnseen: 1 },
    ]);
    expect(table7(['a'], [], null)).to.deep.equal([]);
    const text = formatTable7(rows);
    expect(text).to.match(/2 c\s+155\s+3/);
    expect(formatTable7(table7(['a', 'b'], [0, 1], null), 1)).to.match(/1 more training nodes/);
  });
});
