/**
 * netflowgen's seeded random numbers (synth, example placement, tests, benches): xoshiro128**
 * (Blackman and Vigna), seeded through splitmix32, with the few distributions traffic needs. No Math.random in the pipeline: the same
 * seed gives the same numbers on every machine (only 32-bit integer arithmetic and IEEE doubles).
 *
 * Independent streams: `Rng.derive(seed, 'node', 17)` hashes the seed with the keys, so the traffic
 * of node 17 does not change when the number of nodes, the attacks or the call order elsewhere do.
 */

/** 32-bit finaliser of MurmurHash3: a good mix of one word. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a seed and a list of keys (numbers or strings) to one 32-bit word. */
export function hashKeys(seed: number, keys: readonly (number | string)[]): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const k of keys) {
    if (typeof k === 'number') {
      h = mix32(h ^ mix32((k >>> 0) + 0x632be59b));
      // Keys above 2^32 (rare) keep their high part too.
      if (k >= 0x1_0000_0000 || k < 0) h = mix32(h ^ Math.floor(k / 0x1_0000_0000));
    } else {
      for (let i = 0; i < k.length; i++) h = mix32(h ^ (k.charCodeAt(i) + 0x7f4a7c15));
      h = mix32(h ^ k.length);
    }
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second value of the last polar-method pair, or NaN. */
  private spare = NaN;

  constructor(seed: number) {
    // splitmix32 fills the four state words; an all-zero state is impossible after it.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A stream for `seed` and the keys, independent of every other key list. */
  static derive(seed: number, ...keys: (number | string)[]): Rng {
    return new Rng(hashKeys(seed, keys));
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.float();
  }

  /** Uniform integer in [0, n) (n <= 2^32). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [a, b] inclusive. */
  intIn(a: number, b: number): number {
    return a + this.int(b - a + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal (Marsaglia's polar method). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /** Log-normal with the given median and sigma of the logarithm. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Pareto (type I): scale xm, shape alpha; heavy tail P(X > x) = (xm / x)^alpha. */
  pareto(xm: number, alpha: number): number {
    return xm / Math.pow(1 - this.float(), 1 / alpha);
  }

  /** Poisson with mean lambda (Knuth's product method below 30, a rounded normal above). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.float();
      while (p > limit) {
        k++;
        p *= this.float();
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }

  /** Binomial(n, p): exact below 40 trials, Poisson or normal approximations above. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n < 40) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.float() < p) k++;
      return k;
    }
    const mean = n * p;
    if (mean < 30) return Math.min(n, this.poisson(mean));
    return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * this.normal())));
  }

  /** Geometric number of trials until the first success (>= 1), success probability p. */
  geometric(p: number): number {
    if (p >= 1) return 1;
    return 1 + Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  /** An element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Index drawn from a cumulative distribution (increasing, last = total), by binary search. */
  fromCumulative(cum: Float64Array): number {
    const r = this.float() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Cumulative weights of a Zipf law over n ranks with exponent s (rank 1 most likely). */
export function zipfCumulative(n: number, s: number): Float64Array {
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / Math.pow(i + 1, s);
    cum[i] = acc;
  }
  return cum;
}

/** A bare stream of uniform numbers in [0, 1) from a seed (and optional keys, as Rng.derive). */
export function randomStream(seed: number, ...keys: (number | string)[]): () => number {
  const rng = keys.length > 0 ? Rng.derive(seed, ...keys) : new Rng(seed);
  return () => rng.float();
}
