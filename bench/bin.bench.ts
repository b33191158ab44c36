/**
 * `npm run bench:bin`: binning throughput (Algorithm 1) in TypeScript against numpy.
 *
 * Generates a store-shaped block in memory (nodes x minutes x features, float32, minute-major per
 * node; seeded PRNG; heavy-tailed integer counts with many zeros, some constant and all-zero
 * features), writes it to a temporary file, then:
 *   - TS: per node and feature, computeCutoffs on the series and assignBins on it (timed, I/O excluded);
 *   - numpy (the project's venv): np.sort per float32 row, the same cutoff rule, np.searchsorted for bins
 *     (timed the same way; reading the file is timed apart);
 * and checks that both give identical cutoffs and identical bins (per node-feature bin histograms
 * and sum of minute x bin). Prints the throughputs and the ratio.
 *
 * Size: BENCH_NODES (500), BENCH_MINUTES (20000), BENCH_FEATURES (86), BENCH_BINS (10).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { assignBins, computeCutoffs } from '../ts/discretize/cutoffs.js';
import { packageRoot } from '../ts/common/paths.js';
import { prng } from './stats.js';

const NODES = Number(process.env.BENCH_NODES ?? 500);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 20000);
const FEATURES = Number(process.env.BENCH_FEATURES ?? 86);
const NBINS = Number(process.env.BENCH_BINS ?? 10);

/**
 * One node's block, minute-major: heavy-tailed counts (Pareto-like, c / u), zero with a per-feature
 * probability; 5% of the features never have traffic, 3% are constant when active.
 */
function generateNode(node: number, out: Float32Array): void {
  const r = prng(0x9e3779b9 ^ (node * 7919 + 1));
  for (let f = 0; f < FEATURES; f++) {
    const kind = r();
    const p0 = kind < 0.05 ? 1 : 0.15 + 0.8 * r();
    const constant = kind > 0.97 ? 1 + Math.floor(r() * 100) : 0;
    const scale = 1 + Math.floor(r() * 1000); // smallest non-zero count of the feature
    for (let t = 0; t < MINUTES; t++) {
      let v = 0;
      if (r() >= p0) v = constant || Math.floor(scale / (r() + 1e-6)); // up to ~1e9
      out[t * FEATURES + f] = v;
    }
  }
}

const PY = String.raw`
import sys, time, numpy as np
path, nodes, minutes, feats, nbins, out_cut, out_chk = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6], sys.argv[7]
nc = nbins - 1
src = open(path, 'rb')
cut = np.full((nodes, feats, nc), np.inf)
chk = np.zeros((nodes, feats, nbins + 1))
w = np.arange(minutes, dtype=np.float64)

def round_half_up(a, b):
    return (2 * a + b) // (2 * b)

def cutoffs(s):
    # s: one sorted row (zeros first). Same rule as ts/discretize/cutoffs.ts; float32 -> float64 is exact.
    out = np.full(nc, np.inf)
    k = int(np.searchsorted(s, 0.0, side='right'))
    nz = s[k:]
    M = len(nz)
    if M == 0:
        return out
    at = lambda p: nz[p if p < M else M - 1]
    base, j0, step = 0, 0, max(1, round_half_up(M, nc))
    out[0] = at(step - 1)
    for j in range(2, nc + 1):
        t = at(base - 1 + (j - j0) * step)
        prev = out[j - 2]
        if t > prev:
            out[j - 1] = t
            continue
        m = int(np.searchsorted(nz, prev, side='right'))
        if m >= M:
            break
        out[j - 1] = nz[m]
        step = max(1, round_half_up(M - m, nbins - j))
        base, j0 = m, j
    return out

def assign(row, c):
    K = int(np.isfinite(c).sum())
    b = np.searchsorted(c[:K], row, side='left') + 1
    b[b > K] = nbins - 1
    b[row == 0] = 0
    return b

t_io = t_cpu = 0.0
b = np.zeros((feats, minutes), dtype=np.int64)
for v in range(nodes):
    t0 = time.perf_counter()
    block = np.fromfile(src, dtype='<f4', count=minutes * feats).reshape(minutes, feats)
    t1 = time.perf_counter()
    rows = np.ascontiguousarray(block.T)  # (features, minutes) float32, as stored
    s = np.sort(rows, axis=1)
    for f in range(feats):
        cut[v, f] = cutoffs(s[f])
        b[f] = assign(rows[f], cut[v, f])
    t2 = time.perf_counter()
    t_io += t1 - t0
    t_cpu += t2 - t1
    for f in range(feats):
        chk[v, f, :nbins] = np.bincount(b[f], minlength=nbins)
        chk[v, f, nbins] = np.dot(w, b[f])
cut.astype('<f8').tofile(out_cut)
chk.astype('<f8').tofile(out_chk)
print(f'{t_cpu:.6f} {t_io:.6f}')
`;

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const python = process.env.NETFLOWGEN_PYTHON_BIN ?? join(packageRoot(), '.venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`${python} not found: run npm run setup (or set NETFLOWGEN_PYTHON_BIN)`);
  const values = NODES * MINUTES * FEATURES;
  console.log(
    `bench:bin  ${NODES} nodes x ${FEATURES} features x ${MINUTES} minutes = ${(values / 1e6).toFixed(0)}M values, ${NBINS} bins`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'netflowgen-bench-bin-'));
  try {
    const dataPath = join(dir, 'series.f32');
    const nc = NBINS - 1;
    const tsCut = new Float64Array(NODES * FEATURES * nc);
    const tsChk = new Float64Array(NODES * FEATURES * (NBINS + 1));
    const block = new Float32Array(MINUTES * FEATURES);
    const col = new Float64Array(MINUTES);
    const bins = new Uint8Array(FEATURES * MINUTES); // [features, minutes] of one node
    let tGen = 0;
    let tTs = 0;
    const fd = openSync(dataPath, 'w');
    try {
      for (let v = 0; v < NODES; v++) {
        const g0 = performance.now();
        generateNode(v, block);
        writeSync(fd, new Uint8Array(block.buffer));
        const t0 = performance.now();
        for (let f = 0; f < FEATURES; f++) {
          for (let t = 0; t < MINUTES; t++) col[t] = block[t * FEATURES + f];
          const c = computeCutoffs(col, NBINS);
          assignBins(col, c, bins.subarray(f * MINUTES, (f + 1) * MINUTES));
          tsCut.set(c, (v * FEATURES + f) * nc);
        }
        const t1 = performance.now();
        tGen += t0 - g0;
        tTs += t1 - t0;
        for (let f = 0; f < FEATURES; f++) {
          const chk = (v * FEATURES + f) * (NBINS + 1);
          let ws = 0;
          for (let t = 0; t < MINUTES; t++) {
            const b = bins[f * MINUTES + t];
            tsChk[chk + b]++;
            ws += t * b;
          }
          tsChk[chk + NBINS] = ws;
        }
      }
    } finally {
      closeSync(fd);
    }
    console.log(`  generated and wrote ${mb(values * 4)} in ${(tGen / 1000).toFixed(1)} s`);
    console.log(
      `  TS     computeCutoffs + assignBins: ${(tTs / 1000).toFixed(1)} s, ${(values / (tTs / 1000) / 1e6).toFixed(1)}M values/s`,
    );

    const cutPath = join(dir, 'np-cutoffs.f64');
    const chkPath = join(dir, 'np-check.f64');
    const res = await execa(
      python,
      ['-c', PY, dataPath, String(NODES), String(MINUTES), String(FEATURES), String(NBINS), cutPath, chkPath],
      {
        env: { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
      },
    );
    const [npCpu, npIo] = res.stdout.trim().split(/\s+/).map(Number);
    console.log(
      `  numpy  np.sort per row + cutoffs + searchsorted: ${npCpu.toFixed(1)} s, ${(values / npCpu / 1e6).toFixed(1)}M values/s (reading the file: ${npIo.toFixed(1)} s more)`,
    );

    const npCut = new Float64Array(readFileSync(cutPath).buffer.slice(0));
    const npChk = new Float64Array(readFileSync(chkPath).buffer.slice(0));
    let cutDiff = 0;
    let firstDiff = '';
    for (let i = 0; i < tsCut.length; i++)
      if (!Object.is(tsCut[i], npCut[i])) {
        if (!cutDiff)
          firstDiff = ` first at node ${Math.floor(i / (FEATURES * nc))}, feature ${Math.floor(i / nc) % FEATURES}, cutoff ${(i % nc) + 1}: TS ${tsCut[i]} numpy ${npCut[i]}`;
        cutDiff++;
      }
    let chkDiff = 0;
    for (let i = 0; i < tsChk.length; i++) if (tsChk[i] !== npChk[i]) chkDiff++;
    const absent = tsCut.reduce((n, c) => n + (c === Infinity ? 1 : 0), 0);
    console.log(
      `  cutoffs equal: ${cutDiff === 0 ? 'yes' : `NO (${cutDiff} differ;${firstDiff})`} (${tsCut.length} cutoffs, ${absent} absent); bins equal: ${chkDiff === 0 ? 'yes' : `NO (${chkDiff} checks differ)`}`,
    );
    console.log(`  ratio numpy time / TS time = ${(npCpu / (tTs / 1000)).toFixed(2)}  (above 1: TS is faster)`);
    if (cutDiff || chkDiff) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
