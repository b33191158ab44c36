/**
 * Two DDoS detectors that need no training (SPEC §6 "Simple detectors", not in the paper): reference
 * rows that show what learning adds. Pure functions over typed arrays; the run that reads the data and
 * writes the curves is detector-run.ts.
 *
 * The evaluation (ts/evaluate/metrics.ts) detects at the first step t of the D-minute detection window
 * with S_t < tau and chooses tau on a calibration split. Each detector therefore turns its own alarm
 * statistic into a survival-like curve S_t in [0, 1], non-increasing in t, such that "S_t < tau" is
 * exactly "the detector's statistic crossed its threshold by step t": choosing tau is choosing the
 * detector's threshold. Alongside S_t each gives the per-step increment (the "hazard" the fine-tuned
 * models write)
 *
 *   lambda_t = -ln(S_t / S_{t-1}),  S_{-1} = 1,   so that S_t = exp(-sum_{k<=t} lambda_k),
 *
 * computed from the statistic itself (never from a rounded S), so it stays finite.
 *
 * 1. Static threshold (FastNetMon-style: a per-node threshold on incoming packets/s and bits/s).
 *    For a node, the training values are its minutes of the binned dataset's training split:
 *    p = in.pkt / 60 (packets/s) and b = 8 in.byt / 60 (bits/s). For one of the two series with sorted
 *    training values v_(1) <= ... <= v_(n), the exceedance level of a value x is the empirical CDF
 *
 *      F(x) = #{i : v_i < x} / (n + 1)                               for x <= v_(n)
 *      F(x) = 1 - s / ((n + 1) (s + x - v_(n)))                      for x >  v_(n)
 *
 *    with s = max(v_(n), s_min) (s_min: one packet or one byte per minute, 1/60 packets/s and 8/60
 *    bits/s). The strict count makes a value exceed the training values it is strictly above (a node
 *    idle at 0 is not "above" its idle minutes); dividing by n + 1 keeps F < 1 on the training range; the count
 *    steps to n / (n + 1) just above the maximum, and the extension continues from there, strictly
 *    increasing and below 1, so that larger values beyond anything seen in training still order:
 *    beyond the maximum, 1 - F falls as s / (s + x - v_(n)), i.e. as max / x for a node whose maximum is
 *    above s_min. Per minute e_t = max(F_p(p_t), F_b(b_t)), and over the detection window
 *
 *      S_t = 1 - max_{k <= t} e_k = min_{k <= t} min(1 - F_p(p_k), 1 - F_b(b_k)).
 *
 *    Meaning of tau: S_t < tau  <=>  at some minute k <= t, packets/s or bits/s was strictly above the
 *    node's empirical (1 - tau)-quantile, q_{1-tau} = v_(j) with j = floor((1 - tau)(n + 1)) + 1 (for
 *    j <= n; for tau <= 1/(n + 1), above v_(n) + s (1 / (tau (n + 1)) - 1)). So tau IS the quantile
 *    choice: tau = 0.01 is "alarm above the node's 99% quantile of training minutes". The training
 *    minutes include whatever attacks the training split holds (no labels are used to build the tables;
 *    labels only choose tau).
 *
 * 2. EWMA + CUSUM (as CESNET's NEMEA DDoS detector): on x_t = ln(1 + in.pkt_t), the node's incoming
 *    packets per minute. The log makes the statistic a relative change (a doubling is the same step for a
 *    node at 100 and at 100,000 packets/min), tames the heavy tail of traffic volumes and makes the
 *    variance roughly comparable across nodes; the 1 + keeps idle minutes (0 packets) finite. Warm-up on
 *    the example's history (its W - D minutes before the detection window): mu and the variance are
 *    initialised as the mean and population variance of the first m = min(H, ceil(1 / alpha)) history
 *    minutes, then updated over the rest of the history by the exponentially weighted recursions
 *
 *      d = x_t - mu,   mu <- mu + alpha d,   var <- (1 - alpha)(var + alpha d^2)      (alpha = 0.05)
 *
 *    (without history, H = 0: mu = x_0 and var = 0). Over the detection window, t = 0..D-1:
 *
 *      z_t = (x_t - mu_{t-1}) / max(sigma_{t-1}, sigma_min)     sigma = sqrt(var), sigma_min = 0.1
 *      g_t = max(0, g_{t-1} + z_t - k),  g_{-1} = 0,  k = 0.5    (one-sided, upward: DDoS adds traffic)
 *      S_t = exp(-max_{k <= t} g_k),     lambda_t = G_t - G_{t-1} with G_t = max_{k <= t} g_k.
 *
 *    Meaning of tau: S_t < tau  <=>  the CUSUM statistic exceeded h = -ln tau by step t. The EWMA keeps
 *    updating inside the detection window by default (the detector runs online and causally, as deployed:
 *    a slow alpha follows a daily ramp, while a sudden attack still drives g up before mu catches up);
 *    `freeze: true` keeps the history's mu and sigma instead. sigma_min = 0.1 (about a 10% change) keeps a
 *    perfectly steady history from turning any jitter into a huge z. CUSUM statistics above about 103
 *    underflow float32 to S = 0 (alarm at any tau > 0): thresholds h above that are not represented.
 */

// ---------------------------------------------------------------- static threshold

/** The sorted training values of one node and one series, and the scale of the extension above their maximum. */
export interface QuantileTable {
  /** Training values, ascending. */
  sorted: Float64Array;
  /** Scale s of the extension above the maximum: max(v_(n), floor). */
  scale: number;
}

/** Training values per second of one node (packets/s and bits/s). */
export interface NodeQuantileTables {
  pkt: QuantileTable;
  bits: QuantileTable;
}

/** Floors of the extension scale: one packet, one byte (8 bits) in a minute, per second. */
export const PKT_SCALE_FLOOR = 1 / 60;
export const BITS_SCALE_FLOOR = 8 / 60;

/** Packets per minute -> packets per second. */
export const packetsPerSecond = (pktPerMinute: number): number => pktPerMinute / 60;
/** Bytes per minute -> bits per second. */
export const bitsPerSecond = (bytesPerMinute: number): number => (bytesPerMinute * 8) / 60;

/** The quantile table of one series: its values sorted, the extension scale max(v_(n), floor). */
export function buildQuantileTable(values: ArrayLike<number>, floor: number): QuantileTable {
  if (!values.length) throw new RangeError('a quantile table needs at least one training value');
  const sorted = Float64Array.from(values).sort();
  if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[sorted.length - 1]))
    throw new RangeError('training values must be finite');
  if (!(floor > 0)) throw new RangeError(`the extension scale floor must be positive, got ${floor}`);
  return { sorted, scale: Math.max(sorted[sorted.length - 1], floor) };
}

/** The tables of one node from its training minutes' incoming packets and bytes per minute. */
export function nodeQuantileTables(
  pktPerMinute: ArrayLike<number>,
  bytesPerMinute: ArrayLike<number>,
): NodeQuantileTables {
  return {
    pkt: buildQuantileTable(Float64Array.from(pktPerMinute, packetsPerSecond), PKT_SCALE_FLOOR),
    bits: buildQuantileTable(Float64Array.from(bytesPerMinute, bitsPerSecond), BITS_SCALE_FLOOR),
  };
}

/** #{v_i < x} in an ascending array (binary search). */
function countBelow(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The exceedance level F(x) of the module docstring, in [0, 1). */
export function exceedanceLevel(t: QuantileTable, x: number): number {
  return 1 - exceedanceSurvival(t, x);
}

/**
 * 1 - F(x), in (0, 1]: 1 - #{v_i < x} / (n + 1) up to the training maximum, s / ((n + 1)(s + x - v_(n)))
 * above it. Computed directly (not as 1 - F) so that it keeps its precision far above the maximum.
 */
export function exceedanceSurvival(t: QuantileTable, x: number): number {
  const n = t.sorted.length;
  const max = t.sorted[n - 1];
  if (x > max) return t.scale / ((n + 1) * (t.scale + (x - max)));
  return 1 - countBelow(t.sorted, x) / (n + 1);
}

/**
 * The value a static threshold at quantile q = 1 - tau stands for: S_t < tau exactly when a value is
 * strictly above it. v_(j), j = floor(q (n + 1)) + 1, inside the training range; above it, the value
 * where the extension reaches tau. Infinity for tau <= 0 (never), -Infinity for tau > 1 (always).
 */
export function staticThresholdValue(t: QuantileTable, tau: number): number {
  if (!(tau > 0)) return Infinity;
  if (tau > 1) return -Infinity;
  const n = t.sorted.length;
  // S(x) < tau on the training range  <=>  #{v < x} > (1 - tau)(n + 1)  <=>  #{v < x} >= j
  const j = Math.floor((1 - tau) * (n + 1)) + 1;
  if (j <= 0) return -Infinity;
  if (j <= n) return t.sorted[j - 1];
  const max = t.sorted[n - 1];
  return max + t.scale * (1 / (tau * (n + 1)) - 1);
}

/** A survival-like curve and its per-step increments lambda_t = -ln(S_t / S_{t-1}), S_{-1} = 1. */
export interface DetectorCurve {
  survival: Float64Array;
  hazard: Float64Array;
}

/**
 * The static-threshold curve of one example: `pktPerMinute` and `bytesPerMinute` are the node's
 * incoming packets and bytes of the D minutes of the detection window; S_t = min_{k<=t} min(1 -
 * F_p(p_k), 1 - F_b(b_k)) (module docstring).
 */
export function staticThresholdCurve(
  tables: NodeQuantileTables,
  pktPerMinute: ArrayLike<number>,
  bytesPerMinute: ArrayLike<number>,
): DetectorCurve {
  const D = pktPerMinute.length;
  if (bytesPerMinute.length !== D)
    throw new RangeError(`packets (${D}) and bytes (${bytesPerMinute.length}) cover different lengths`);
  const survival = new Float64Array(D);
  const hazard = new Float64Array(D);
  let s = 1;
  for (let t = 0; t < D; t++) {
    const st = Math.min(
      exceedanceSurvival(tables.pkt, packetsPerSecond(pktPerMinute[t])),
      exceedanceSurvival(tables.bits, bitsPerSecond(bytesPerMinute[t])),
    );
    if (st < s) {
      hazard[t] = Math.log(s) - Math.log(st);
      s = st;
    }
    survival[t] = s;
  }
  return { survival, hazard };
}

// ---------------------------------------------------------------- EWMA + CUSUM

export interface EwmaCusumParams {
  /** EWMA weight of a new minute (mean and variance), default 0.05 (a memory of about 20 minutes). */
  alpha: number;
  /** CUSUM drift, in standard deviations, default 0.5. */
  k: number;
  /** Floor on sigma in log units, default 0.1 (about a 10% change). */
  sigmaFloor: number;
  /** Keep mu and sigma of the history through the detection window (default false: keep updating). */
  freeze: boolean;
}

export const DEFAULT_EWMA_CUSUM: Readonly<EwmaCusumParams> = Object.freeze({
  alpha: 0.05,
  k: 0.5,
  sigmaFloor: 0.1,
  freeze: false,
});

/** The EWMA state after the warm-up on the history (module docstring). */
export function ewmaWarmup(
  history: ArrayLike<number>,
  alpha: number,
  first?: number,
): { mu: number; variance: number } {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EWMA alpha must be in (0, 1], got ${alpha}`);
  const H = history.length;
  if (!H) return { mu: first ?? 0, variance: 0 };
  const m = Math.min(H, Math.ceil(1 / alpha - 1e-9));
  let mu = 0;
  for (let i = 0; i < m; i++) mu += history[i];
  mu /= m;
  let variance = 0;
  for (let i = 0; i < m; i++) variance += (history[i] - mu) ** 2;
  variance /= m;
  for (let i = m; i < H; i++) {
    const d = history[i] - mu;
    mu += alpha * d;
    variance = (1 - alpha) * (variance + alpha * d * d);
  }
  return { mu, variance };
}

/**
 * The EWMA + CUSUM curve of one example from its log-transformed series: `history` the W - D minutes
 * before the detection window, `window` its D minutes, both x = ln(1 + packets per minute) (see
 * `logPackets`). Returns S_t = exp(-G_t) and lambda_t = G_t - G_{t-1}, plus g_t and z_t.
 */
export function ewmaCusumCurve(
  history: ArrayLike<number>,
  window: ArrayLike<number>,
  params: Partial<EwmaCusumParams> = {},
): DetectorCurve & { g: Float64Array; z: Float64Array } {
  const p = { ...DEFAULT_EWMA_CUSUM, ...params };
  if (!(p.sigmaFloor > 0)) throw new RangeError(`sigma floor must be positive, got ${p.sigmaFloor}`);
  if (!(p.k >= 0)) throw new RangeError(`CUSUM drift k must be >= 0, got ${p.k}`);
  const D = window.length;
  let { mu, variance } = ewmaWarmup(history, p.alpha, D ? window[0] : 0);
  const survival = new Float64Array(D);
  const hazard = new Float64Array(D);
  const g = new Float64Array(D);
  const z = new Float64Array(D);
  let gt = 0;
  let G = 0;
  for (let t = 0; t < D; t++) {
    const x = window[t];
    const d = x - mu;
    z[t] = d / Math.max(Math.sqrt(variance), p.sigmaFloor);
    gt = Math.max(0, gt + z[t] - p.k);
    g[t] = gt;
    if (gt > G) {
      hazard[t] = gt - G;
      G = gt;
    }
    survival[t] = Math.exp(-G);
    if (!p.freeze) {
      mu += p.alpha * d;
      variance = (1 - p.alpha) * (variance + p.alpha * d * d);
    }
  }
  return { survival, hazard, g, z };
}

/** x = ln(1 + packets per minute), the series EWMA + CUSUM runs on. */
export const logPackets = (pktPerMinute: ArrayLike<number>): Float64Array =>
  Float64Array.from(pktPerMinute, (v) => Math.log1p(Math.max(0, v)));
