/**
 * How real a generated traffic series is: pure functions over bin series. A comparison sets a
 * generated series G against a real series R of the same nodes and minutes; each node's series is a
 * Uint8Array [T, F] (minute-major, as BinnedDataset.readBins gives it), bins 0..K-1 read as ordinal
 * numbers. Readings where the issue leaves a gap are marked "our reading" (docs/generate.md repeats them).
 *
 * Jensen-Shannon divergence of bin distributions (NetShare's measure for categorical fields), per
 * node and feature, in bits (base 2, so it lies in [0, 1]):
 *
 *   p_k = #{t : R_t = k} / T,  q_k = #{t : G_t = k} / T,  m = (p + q) / 2
 *   JSD(p, q) = 1/2 sum_k p_k log2(p_k / m_k) + 1/2 sum_k q_k log2(q_k / m_k)      (0 log 0 = 0)
 *
 * then the mean over nodes gives a feature's JSD, the mean over features the mean JSD (and the mean
 * over a group's features that group's). Our reading: per node, not pooled over nodes, since a bin
 * is a quantile of the node's own training traffic and pooling would hide a node given another's law.
 *
 * Autocorrelation (DoppelGANger's measure), per node and feature, the usual biased estimator:
 *
 *   r_k = sum_{t=0}^{T-k-1} (x_t - xbar)(x_{t+k} - xbar) / sum_{t=0}^{T-1} (x_t - xbar)^2
 *
 * with r_k = 0 for a constant series (no variation, no correlation: our reading). A lag k is used only
 * when T >= 2k (at least as many pairs as the lag). acfMse = mean over nodes, features and the used
 * lags of 1..60 of (r_k(G) - r_k(R))^2; acf1440 = the same at the daily lag 1,440 alone (null when
 * T < 2,880).
 *
 * Correlation between features (how ports and protocols move together), per node: the Pearson
 * correlation C_ij of features i < j over the T minutes (0 when either is constant). corrError = mean
 * over nodes and pairs of |C_ij(G) - C_ij(R)|; corrErrorByGroupPair the same over the pairs of two
 * groups (e.g. 'protocol-port'; 'port-port' for pairs within a group), in catalogue group order.
 *
 * Equal bins: equalShare = share of (node, minute, feature) with G = R (1 for identical series).
 *
 * Errors are 0 on identical series; every function takes precomputed statistics (seriesStats) so that
 * the real side of many comparisons is summarised once.
 */
import { FEATURE_GROUPS, type FeatureGroup } from '../catalogue/features.js';

/** The short lags of acfMse, 1..60 minutes, and the daily lag. */
export const SHORT_LAGS: readonly number[] = Object.freeze(Array.from({ length: 60 }, (_, i) => i + 1));
export const DAILY_LAG = 1440;

/** Whether a series of T minutes is long enough for lag k (T >= 2k). */
export function lagUsable(k: number, T: number): boolean {
  return k >= 1 && T >= 2 * k;
}

/** Jensen-Shannon divergence in bits of two distributions given as counts or shares (each normalised here). */
export function jsd(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError(`jsd: ${p.length} and ${q.length} bins`);
  let sp = 0;
  let sq = 0;
  for (let k = 0; k < p.length; k++) {
    if (!(p[k] >= 0 && q[k] >= 0)) throw new RangeError(`jsd: bin ${k} has a negative or NaN weight`);
    sp += p[k];
    sq += q[k];
  }
  if (sp === 0 || sq === 0) throw new RangeError('jsd: an empty distribution');
  let d = 0;
  for (let k = 0; k < p.length; k++) {
    const a = p[k] / sp;
    const b = q[k] / sq;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.max(0, Math.min(1, d));
}

/** r_k of one series for each lag (0 for a constant series; NaN where T < 2k). */
export function autocorrelation(
  x: ArrayLike<number>,
  lags: readonly number[],
  out = new Float64Array(lags.length),
): Float64Array {
  const T = x.length;
  let mean = 0;
  for (let t = 0; t < T; t++) mean += x[t];
  mean /= T || 1;
  let den = 0;
  for (let t = 0; t < T; t++) den += (x[t] - mean) ** 2;
  for (let j = 0; j < lags.length; j++) {
    const k = lags[j];
    if (!lagUsable(k, T)) {
      out[j] = NaN;
      continue;
    }
    if (den === 0) {
      out[j] = 0;
      continue;
    }
    let s = 0;
    for (let t = 0; t + k < T; t++) s += (x[t] - mean) * (x[t + k] - mean);
    out[j] = s / den;
  }
  return out;
}

/** Pearson correlations of the F columns of a [T, F] series, upper triangle i < j, row-major (F(F-1)/2 values; 0 where a column is constant). */
export function correlationPairs(
  series: Uint8Array,
  T: number,
  F: number,
  out = new Float64Array((F * (F - 1)) / 2),
): Float64Array {
  if (series.length !== T * F) throw new RangeError(`correlationPairs: ${series.length} values, expected ${T} x ${F}`);
  const z = new Float64Array(T * F); // column-major standardised values
  const ok = new Uint8Array(F);
  for (let f = 0; f < F; f++) {
    let mean = 0;
    for (let t = 0; t < T; t++) mean += series[t * F + f];
    mean /= T;
    let ss = 0;
    for (let t = 0; t < T; t++) ss += (series[t * F + f] - mean) ** 2;
    if (ss === 0) continue;
    ok[f] = 1;
    const inv = 1 / Math.sqrt(ss);
    for (let t = 0; t < T; t++) z[f * T + t] = (series[t * F + f] - mean) * inv;
  }
  let p = 0;
  for (let i = 0; i < F; i++)
    for (let j = i + 1; j < F; j++, p++) {
      if (!ok[i] || !ok[j]) {
        out[p] = 0;
        continue;
      }
      let s = 0;
      const a = i * T;
      const b = j * T;
      for (let t = 0; t < T; t++) s += z[a + t] * z[b + t];
      out[p] = Math.max(-1, Math.min(1, s));
    }
  return out;
}

/** What the metrics need of a set of node series: bin histograms, autocorrelations and feature correlations. */
export interface SeriesStats {
  nodes: number;
  minutes: number;
  features: number;
  nBins: number;
  /** Lags of `acf`: the usable short lags, then 1,440 when usable. */
  lags: number[];
  /** [nodes, F, K] bin counts. */
  hist: Float64Array;
  /** [nodes, F, lags] autocorrelations. */
  acf: Float64Array;
  /** [nodes, F(F-1)/2] feature correlations. */
  corr: Float64Array;
}

/** Statistics of node series, each Uint8Array [T, F]. */
export function seriesStats(series: readonly Uint8Array[], T: number, F: number, K: number): SeriesStats {
  const n = series.length;
  const lags = [...SHORT_LAGS.filter((k) => lagUsable(k, T)), ...(lagUsable(DAILY_LAG, T) ? [DAILY_LAG] : [])];
  const L = lags.length;
  const P = (F * (F - 1)) / 2;
  const hist = new Float64Array(n * F * K);
  const acf = new Float64Array(n * F * L);
  const corr = new Float64Array(n * P);
  const col = new Float64Array(T);
  series.forEach((s, v) => {
    if (s.length !== T * F)
      throw new RangeError(`series of node ${v}: ${s.length} values, expected ${T} minutes x ${F} features`);
    for (let t = 0; t < T; t++)
      for (let f = 0; f < F; f++) {
        const b = s[t * F + f];
        if (b >= K) throw new RangeError(`node ${v}, minute ${t}, feature ${f}: bin ${b} is not below ${K}`);
        hist[(v * F + f) * K + b]++;
      }
    for (let f = 0; f < F; f++) {
      for (let t = 0; t < T; t++) col[t] = s[t * F + f];
      autocorrelation(col, lags, acf.subarray((v * F + f) * L, (v * F + f + 1) * L));
    }
    correlationPairs(s, T, F, corr.subarray(v * P, (v + 1) * P));
  });
  return { nodes: n, minutes: T, features: F, nBins: K, lags, hist, acf, corr };
}

/**
 * The metrics of one comparison (schemas/generation-eval.schema.json's `metrics`). Every number is
 * finite; null only where a metric is not measured. A by-group record has the groups of the features
 * compared (absent, not null, for the others).
 */
export interface GenerationMetrics {
  /** Mean over features of the per-feature JSD (bits). */
  jsd: number;
  jsdByGroup: Partial<Record<FeatureGroup, number>>;
  /** Per feature, mean over nodes. */
  jsdByFeature: number[];
  /** Mean squared autocorrelation error over the usable lags of 1..60 (T >= 2k; null when T < 2: no lag). */
  acfMse: number | null;
  /** Empty when acfMse is null. */
  acfMseByGroup: Partial<Record<FeatureGroup, number>>;
  /** Squared autocorrelation error at lag 1,440 (null when T < 2,880). */
  acf1440: number | null;
  /** Mean absolute error of the feature correlations (null with one feature). */
  corrError: number | null;
  corrErrorByGroupPair: Record<string, number>;
  /** Share of (node, minute, feature) whose bins are equal. */
  equalShare: number;
  equalShareByGroup: Partial<Record<FeatureGroup, number>>;
  nodes: number;
  minutes: number;
}

/** The metrics numeric keys, and whether lower is better. */
export const METRIC_KEYS = ['jsd', 'acfMse', 'acf1440', 'corrError', 'equalShare'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
export const LOWER_IS_BETTER: Readonly<Record<MetricKey, boolean>> = Object.freeze({
  jsd: true,
  acfMse: true,
  acf1440: true,
  corrError: true,
  equalShare: false,
});

function groupMeans(
  perFeature: ArrayLike<number>,
  groups: readonly FeatureGroup[],
): Partial<Record<FeatureGroup, number>> {
  const out: Partial<Record<FeatureGroup, number>> = {};
  for (const g of FEATURE_GROUPS) {
    let s = 0;
    let n = 0;
    groups.forEach((x, f) => {
      if (x === g && Number.isFinite(perFeature[f])) {
        s += perFeature[f];
        n++;
      }
    });
    if (n) out[g] = s / n;
  }
  return out;
}

/** Name of a group pair, in catalogue group order ('volume-port', 'port-port'). */
export function groupPairName(a: FeatureGroup, b: FeatureGroup): string {
  const [x, y] = FEATURE_GROUPS.indexOf(a) <= FEATURE_GROUPS.indexOf(b) ? [a, b] : [b, a];
  return `${x}-${y}`;
}

/**
 * The metrics of a generated set against a real set (same nodes, minutes, features and bins, nodes
 * in the same order). `equal` is the number of equal (node, minute, feature) bins per feature, from
 * equalCounts. At least one node, minute and feature: then jsd, jsdByFeature, equalShare and every
 * by-group value are finite numbers, and only acfMse, acf1440 and corrError can be null (not measured).
 */
export function compareStats(
  real: SeriesStats,
  gen: SeriesStats,
  groups: readonly FeatureGroup[],
  equal: Float64Array,
): GenerationMetrics {
  const { nodes: n, features: F, nBins: K, minutes: T } = real;
  if (gen.nodes !== n || gen.features !== F || gen.nBins !== K || gen.minutes !== T)
    throw new RangeError(
      `compareStats: shapes differ (${n}x${T}x${F}x${K} vs ${gen.nodes}x${gen.minutes}x${gen.features}x${gen.nBins})`,
    );
  if (!(n >= 1 && T >= 1 && F >= 1))
    throw new RangeError(`compareStats: ${n} nodes x ${T} minutes x ${F} features: nothing to compare`);
  if (groups.length !== F) throw new RangeError(`compareStats: ${groups.length} groups for ${F} features`);
  if (equal.length !== F) throw new RangeError(`compareStats: ${equal.length} equal counts for ${F} features`);
  const jsdByFeature = new Array<number>(F).fill(0);
  for (let f = 0; f < F; f++) {
    for (let v = 0; v < n; v++) {
      const o = (v * F + f) * K;
      jsdByFeature[f] += jsd(real.hist.subarray(o, o + K), gen.hist.subarray(o, o + K));
    }
    jsdByFeature[f] /= n;
  }
  const L = real.lags.length;
  const short = real.lags.filter((k) => k !== DAILY_LAG).length;
  const acfByFeature = new Float64Array(F).fill(NaN);
  let acf1440: number | null = null;
  if (short) {
    for (let f = 0; f < F; f++) {
      let s = 0;
      for (let v = 0; v < n; v++)
        for (let j = 0; j < short; j++) s += (real.acf[(v * F + f) * L + j] - gen.acf[(v * F + f) * L + j]) ** 2;
      acfByFeature[f] = s / (n * short);
    }
  }
  if (L > short) {
    let s = 0;
    for (let v = 0; v < n; v++)
      for (let f = 0; f < F; f++) s += (real.acf[(v * F + f) * L + L - 1] - gen.acf[(v * F + f) * L + L - 1]) ** 2;
    acf1440 = s / (n * F);
  }
  const P = (F * (F - 1)) / 2;
  let corrSum = 0;
  const pairSum: Record<string, number> = {};
  const pairCount: Record<string, number> = {};
  for (let i = 0, p = 0; i < F; i++)
    for (let j = i + 1; j < F; j++, p++) {
      let s = 0;
      for (let v = 0; v < n; v++) s += Math.abs(real.corr[v * P + p] - gen.corr[v * P + p]);
      corrSum += s;
      const name = groupPairName(groups[i], groups[j]);
      pairSum[name] = (pairSum[name] ?? 0) + s;
      pairCount[name] = (pairCount[name] ?? 0) + n;
    }
  const corrErrorByGroupPair: Record<string, number> = {};
  for (const a of FEATURE_GROUPS)
    for (const b of FEATURE_GROUPS.slice(FEATURE_GROUPS.indexOf(a))) {
      const name = `${a}-${b}`;
      if (pairCount[name]) corrErrorByGroupPair[name] = pairSum[name] / pairCount[name];
    }
  const eqByFeature = new Float64Array(F);
  for (let f = 0; f < F; f++) eqByFeature[f] = equal[f] / (n * T);
  return {
    jsd: mean(jsdByFeature),
    jsdByGroup: groupMeans(jsdByFeature, groups),
    jsdByFeature,
    acfMse: short ? mean(acfByFeature) : null,
    acfMseByGroup: short ? groupMeans(acfByFeature, groups) : {},
    acf1440,
    corrError: P ? corrSum / (P * n) : null,
    corrErrorByGroupPair,
    equalShare: mean(eqByFeature),
    equalShareByGroup: groupMeans(eqByFeature, groups),
    nodes: n,
    minutes: T,
  };
}

/** Per feature, how many (node, minute) bins of two node-series sets are equal. */
export function equalCounts(a: readonly Uint8Array[], b: readonly Uint8Array[], F: number): Float64Array {
  if (a.length !== b.length) throw new RangeError(`equalCounts: ${a.length} and ${b.length} nodes`);
  const out = new Float64Array(F);
  a.forEach((x, v) => {
    const y = b[v];
    if (x.length !== y.length) throw new RangeError(`equalCounts: node ${v} has ${x.length} and ${y.length} values`);
    for (let i = 0; i < x.length; i++) if (x[i] === y[i]) out[i % F]++;
  });
  return out;
}

/** All metrics of generated node series against real ones, in one call. */
export function compareSeries(
  real: readonly Uint8Array[],
  gen: readonly Uint8Array[],
  T: number,
  F: number,
  K: number,
  groups: readonly FeatureGroup[],
): GenerationMetrics {
  return compareStats(seriesStats(real, T, F, K), seriesStats(gen, T, F, K), groups, equalCounts(real, gen, F));
}

/**
 * The mean of several comparisons of the same features (e.g. the two halves of a span): every number
 * averaged; a nullable metric null when any is null; a by-group value kept when every comparison has it.
 */
export function meanMetrics(list: readonly GenerationMetrics[]): GenerationMetrics {
  if (!list.length) throw new RangeError('meanMetrics: nothing to average');
  const F = list[0].jsdByFeature.length;
  if (list.some((m) => m.jsdByFeature.length !== F))
    throw new RangeError(`meanMetrics: comparisons of ${list.map((m) => m.jsdByFeature.length).join(', ')} features`);
  const avg = (xs: (number | null | undefined)[]): number | null =>
    xs.some((x) => x === null || x === undefined) ? null : mean(xs as number[]);
  const avgRecord = <K extends string>(rs: Partial<Record<K, number>>[]): Partial<Record<K, number>> => {
    const out: Partial<Record<K, number>> = {};
    for (const k of Object.keys(rs[0]) as K[]) {
      const v = avg(rs.map((r) => r[k]));
      if (v !== null) out[k] = v;
    }
    return out;
  };
  return {
    jsd: mean(list.map((m) => m.jsd)),
    jsdByGroup: avgRecord(list.map((m) => m.jsdByGroup)),
    jsdByFeature: list[0].jsdByFeature.map((_, f) => mean(list.map((m) => m.jsdByFeature[f]))),
    acfMse: avg(list.map((m) => m.acfMse)),
    acfMseByGroup: avgRecord(list.map((m) => m.acfMseByGroup)),
    acf1440: avg(list.map((m) => m.acf1440)),
    corrError: avg(list.map((m) => m.corrError)),
    corrErrorByGroupPair: avgRecord(list.map((m) => m.corrErrorByGroupPair)) as Record<string, number>,
    equalShare: mean(list.map((m) => m.equalShare)),
    equalShareByGroup: avgRecord(list.map((m) => m.equalShareByGroup)),
    nodes: list[0].nodes,
    minutes: list[0].minutes,
  };
}

/** The mean of at least one number (compareStats has checked that there is a feature). */
function mean(xs: ArrayLike<number>): number {
  if (!xs.length) throw new RangeError('mean: no values');
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Whether metric value a is better than b (strictly). Null when either is null or NaN. */
export function metricBetter(key: MetricKey, a: number | null, b: number | null): boolean | null {
  if (a === null || b === null || Number.isNaN(a) || Number.isNaN(b)) return null;
  return LOWER_IS_BETTER[key] ? a < b : a > b;
}
