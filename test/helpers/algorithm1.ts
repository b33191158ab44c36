/**
 * The paper's Algorithm 1 transcribed as literally as possible, independently of ts/discretize/: the
 * oracle the discretization tests compare the product with. It works on the FULL sorted array (zeros
 * included, x(0)..x(T) as in the paper) with the resolutions documented in cutoffs.ts: round half up,
 * delta >= 1, positions clamped to the last value, remaining tentative cutoffs re-spaced after a
 * repeat, absent cutoffs +Infinity.
 */
const INF = Infinity;

/** The N-1 cutoffs c(1)..c(N-1) of `values` (Algorithm 1, lines 2-16). */
export function referenceCutoffs(values: ArrayLike<number>, N: number): number[] {
  const x = Array.from(values).sort((a, b) => a - b);
  const T = x.length - 1; // last index, as in the paper's x(0)..x(T)
  const c = new Array<number>(N).fill(INF);
  c[0] = 0;
  const k = x.findIndex((v) => v > 0);
  if (k < 0) return c.slice(1);
  const X = (i: number) => x[Math.min(i, T)];
  const round = (a: number, b: number) => Math.floor(a / b + 0.5);
  const delta = Math.max(1, round(T - (k - 1), N - 1));
  const tent = new Array<number>(N + 1);
  for (let i = 1; i <= N - 1; i++) tent[i] = X(k - 1 + i * delta);
  c[1] = tent[1];
  for (let j = 2; j <= N - 1; j++) {
    if (tent[j] !== c[j - 1]) c[j] = tent[j];
    else {
      const m = x.findIndex((v) => v > tent[j]);
      if (m < 0) break;
      c[j] = x[m];
      const d2 = Math.max(1, round(T - (m - 1), N - j));
      for (let i = 1; j + i <= N - 1; i++) tent[j + i] = X(m - 1 + i * d2);
    }
  }
  return c.slice(1);
}

/**
 * Algorithm 1, lines 17-20, by plain search: 0 -> bin 0; otherwise the first i with v <= c(i);
 * above every present cutoff -> the top bin N-1 (N - 1 = cutoffs.length).
 */
export function referenceBins(values: ArrayLike<number>, cutoffs: ArrayLike<number>): number[] {
  const present = Array.from(cutoffs).filter((c) => c !== INF);
  return Array.from(values, (v) => {
    if (v === 0) return 0;
    const i = present.findIndex((c) => v <= c);
    return i < 0 ? cutoffs.length : i + 1;
  });
}
