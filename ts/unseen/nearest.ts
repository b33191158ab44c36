/** L1 nearest neighbour of node summaries (SPEC §4). Pure. */

/** Index of the row of `refs` ([rows, dim], row-major) nearest to `query` in L1; ties: the lowest index. */
export function nearestL1(
  query: ArrayLike<number>,
  refs: Float64Array,
  dim: number,
): { index: number; distance: number } {
  if (dim <= 0 || refs.length % dim !== 0)
    throw new Error(`nearestL1: ${refs.length} reference values are not rows of ${dim}`);
  if (query.length !== dim) throw new Error(`nearestL1: query has ${query.length} values, expected ${dim}`);
  const rows = refs.length / dim;
  if (rows === 0) throw new Error('nearestL1: no reference nodes to map to');
  let best = -1;
  let bestD = Infinity;
  for (let r = 0; r < rows; r++) {
    let d = 0;
    for (let k = 0; k < dim; k++) d += Math.abs(query[k] - refs[r * dim + k]);
    if (d < bestD) {
      bestD = d;
      best = r;
    }
  }
  return { index: best, distance: bestD };
}

/** Maps every query row ([n, dim]) to its nearest reference row. */
export function mapNearest(
  queries: Float64Array,
  refs: Float64Array,
  dim: number,
): { index: Int32Array; distance: Float64Array } {
  const n = queries.length / dim;
  const index = new Int32Array(n);
  const distance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = nearestL1(queries.subarray(i * dim, (i + 1) * dim), refs, dim);
    index[i] = r.index;
    distance[i] = r.distance;
  }
  return { index, distance };
}
