/**
 * npm run bench:serialize [RECORDS] — ingestion speed and memory, against DuckDB's best query and its
 * bare scan of the same file, in the same run.
 *
 * 1. Generates RECORDS (argv, else BENCH_RECORDS, default 10,000,000) nfdump-1.7 CSV records (all 48
 *    columns nfdump writes) over one day: about 500 nodes in 10.0.0.0/16 (the paper has 520), mixed
 *    protocols, ports and flags. The store is dense (nodes x minutes x 86), so its size does not depend
 *    on the number of records: fewer nodes means more records per node-minute, as in ISP data.
 * 2. netflowgen serialize in its own process at each thread count (--threads: the file is cut into
 *    one byte range per thread), pinned with taskset to as many cores when available: records/s and
 *    peak RSS (worker threads included: same process).
 * 3. DuckDB (@duckdb/node-api, in this process), each at SET threads=1 and threads=2:
 *    - grouped, one scan: read only the 9 needed columns (all 48 declared, no sniffing), one
 *      GROUP BY with a grouping set per direction on (node, minute, protocol, port class, flag string),
 *      then the 86 features summed from those few groups (the flag byte, minute epoch and feature
 *      conditions are computed on groups, not rows);
 *    - grouped, two scans: the same as a UNION ALL of one GROUP BY per direction, each its own scan;
 *    - bare scan (the floor): the same read_csv of the 9 columns and a trivial count of each.
 *    Each query's time includes materializing its result in a DuckDB temp table (in memory); the
 *    rows are read into JS afterwards, untimed, for the check.
 * 4. BENCH_REPEAT rounds (default 3), each side once per round, interleaved; prints median and
 *    min-max of seconds and records/s, every ratio netflowgen / peer at the same thread count, and the
 *    1-minute load average after each round (the machine may be shared).
 * 5. Checks that both grouped queries agree with netflowgen (every feature's grand total, and about
 *    2,000 sampled node-minutes exactly, all 86 features), and that netflowgen's stores at every thread
 *    count are byte-identical.
 * BENCH_DIR picks the scratch folder (default: the OS temp folder); it is removed afterwards.
 * BENCH_THREADS (default "1,2") lists the thread counts (netflowgen's and DuckDB's).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { execa } from 'execa';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURES, PORT_CLASSES } from '../ts/catalogue/features.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { randomStream } from '../ts/common/rng.js';

const N = Number(process.argv[2] ?? process.env.BENCH_RECORDS ?? 10_000_000);
const NODES = 500; // the paper's filtered data has 520 nodes
const HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';
const TAIL =
  ',0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,0/0,0,1970-01-01 00:00:00.000';

function generate(path: string): void {
  const r = randomStream(42);
  const fd = openSync(path, 'w');
  writeSync(fd, HEADER + '\n');
  const protos = ['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP', 'GRE'];
  const flags = [
    '...A....',
    '...AP...',
    '......S.',
    '...A..S.',
    '...A...F',
    '.....R..',
    '...AP..F',
    '........',
    '..UAP.SF',
  ];
  const ports = [53, 80, 123, 443, 22, 25, 8080, 3306, 51234, 61000];
  let buf = '';
  const pad = (n: number) => (n < 10 ? '0' + n : String(n));
  for (let i = 0; i < N; i++) {
    const sec = Math.floor((i / N) * 86400);
    const ts = `2024-03-01 ${pad(Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}`;
    const node = `10.0.${Math.floor(r() * r() * NODES) >> 8}.${Math.floor(r() * r() * NODES) & 255}`;
    const other = `${1 + Math.floor(r() * 220)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;
    const incoming = r() < 0.7;
    const pr = protos[Math.floor(r() * protos.length)];
    const hasPorts = pr === 'TCP' || pr === 'UDP';
    const svc = hasPorts ? ports[Math.floor(r() * ports.length)] : 0;
    const eph = hasPorts ? 1024 + Math.floor(r() * 64000) : 0;
    const flg = pr === 'TCP' ? flags[Math.floor(r() * flags.length)] : '........';
    const pkts = 1 + Math.floor(r() * r() * 200);
    const byts = pkts * (40 + Math.floor(r() * 1400));
    const [sa, da, sp, dp] = incoming ? [other, node, eph, svc] : [node, other, svc, eph];
    buf += `${ts},${ts},0.000,${sa},${da},${sp},${dp},${pr},${flg},0,0,${pkts},${byts},0,0${TAIL}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
const THREADS = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const NEEDED: Record<string, string> = {
  ts: 'VARCHAR',
  sa: 'VARCHAR',
  da: 'VARCHAR',
  sp: 'INTEGER',
  dp: 'INTEGER',
  pr: 'VARCHAR',
  flg: 'VARCHAR',
  ipkt: 'BIGINT',
  ibyt: 'BIGINT',
};

/** read_csv with every column declared (no sniffing); DuckDB's projection pushdown parses only those used. */
function readCsv(path: string): string {
  const cols = HEADER.split(',').map((c) => `'${c}': '${NEEDED[c] ?? 'VARCHAR'}'`);
  return `read_csv('${path}', header = true, auto_detect = false, delim = ',', quote = '', escape = '', columns = {${cols.join(', ')}})`;
}

/** The SQL condition of one catalogue feature over per-direction groups `g` (dir 0 in, 1 out; pkt, byt, n summed). */
function featureSql(i: number): string {
  const f = FEATURES[i];
  const conds = [`dir = ${f.direction === 'in' ? 0 : 1}`];
  const value = f.measure === 'pkt' ? 'pkt' : f.measure === 'byt' ? 'byt' : 'n';
  if (f.group === 'protocol') {
    conds.push(
      {
        icmp: "pr IN ('ICMP','ICMP6')",
        tcp: "pr = 'TCP'",
        udp: "pr = 'UDP'",
        other: "pr NOT IN ('ICMP','ICMP6','TCP','UDP')",
      }[f.cls as string]!,
    );
  } else if (f.group === 'port') {
    conds.push(`pcls = ${PORT_CLASSES.indexOf(f.cls as (typeof PORT_CLASSES)[number])}`);
  } else if (f.group === 'flag') {
    conds.push(`pr = 'TCP' AND flagbyte = ${f.cls as number}`);
  }
  return `sum(${value}) FILTER (WHERE ${conds.join(' AND ')})`;
}

const portCls = (p: string) =>
  `CASE WHEN pr NOT IN ('TCP','UDP') OR ${p} <= 0 THEN 0 WHEN ${p} = 53 THEN 1 WHEN ${p} = 80 THEN 2 WHEN ${p} = 123 THEN 3 WHEN ${p} = 443 THEN 4 WHEN ${p} <= 1023 THEN 5 WHEN ${p} <= 49151 THEN 6 ELSE 7 END`;
const flagByte = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C']
  .map((ch, b) => `(CASE WHEN strpos(flg, '${ch}') > 0 THEN ${1 << b} ELSE 0 END)`)
  .join(' + ');
const LOCAL = (col: string) => `CASE WHEN starts_with(${col}, '10.0.') THEN ${col} END`;

/** Stage 2, on the few groups: minute epoch, flag byte and the 86 FILTER sums per (node, minute). */
const finish = (groups: string) => `
  SELECT node, epoch(strptime(minute, '%Y-%m-%d %H:%M'))::BIGINT // 60 AS m, ${FEATURES.map((_, i) => featureSql(i) + ` AS f${i}`).join(', ')}
  FROM (SELECT *, ${flagByte} AS flagbyte FROM (${groups}) WHERE node IS NOT NULL)
  GROUP BY node, minute`;

const QUERIES: { name: string; sql: (path: string) => string; rows: boolean }[] = [
  {
    name: 'DuckDB grouped, one scan',
    rows: true,
    sql: (path) =>
      finish(`
        SELECT CASE WHEN GROUPING(dnode) = 0 THEN 0 ELSE 1 END AS dir, coalesce(dnode, snode) AS node, minute, pr,
               coalesce(dpcls, spcls) AS pcls, flg, sum(ipkt) AS pkt, sum(ibyt) AS byt, count(*) AS n
        FROM (SELECT ${LOCAL('da')} AS dnode, ${LOCAL('sa')} AS snode, left(ts, 16) AS minute, pr, flg,
                     ${portCls('dp')} AS dpcls, ${portCls('sp')} AS spcls, ipkt, ibyt FROM ${readCsv(path)})
        GROUP BY GROUPING SETS ((dnode, minute, pr, dpcls, flg), (snode, minute, pr, spcls, flg))`),
  },
  {
    name: 'DuckDB grouped, two scans',
    rows: true,
    sql: (path) =>
      finish(`
        SELECT 0 AS dir, da AS node, left(ts, 16) AS minute, pr, ${portCls('dp')} AS pcls, flg, sum(ipkt) AS pkt, sum(ibyt) AS byt, count(*) AS n
        FROM ${readCsv(path)} WHERE starts_with(da, '10.0.') GROUP BY ALL
        UNION ALL
        SELECT 1, sa, left(ts, 16), pr, ${portCls('sp')}, flg, sum(ipkt), sum(ibyt), count(*)
        FROM ${readCsv(path)} WHERE starts_with(sa, '10.0.') GROUP BY ALL`),
  },
  {
    name: 'DuckDB bare scan of the 9 columns',
    rows: false,
    sql: (path) =>
      `SELECT count(ts), count(sa), count(da), count(sp), count(dp), count(pr), count(flg), count(ipkt), count(ibyt) FROM ${readCsv(path)}`,
  },
];

/**
 * Times one query with its result materialized inside DuckDB (CREATE TEMP TABLE: what netflowgen's
 * store is to it, though in memory, not on disk); the rows are read into JS afterwards, untimed, for
 * the agreement check only.
 */
async function runQuery(
  conn: Awaited<ReturnType<DuckDBInstance['connect']>>,
  sql: string,
  keepRows: boolean,
): Promise<{ seconds: number; rows: Map<string, number[]> | null }> {
  const t0 = process.hrtime.bigint();
  await conn.run(`CREATE OR REPLACE TEMP TABLE result AS ${sql}`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!keepRows) {
    await conn.run('DROP TABLE result');
    return { seconds, rows: null };
  }
  const reader = await conn.runAndReadAll('SELECT * FROM result');
  const rows = new Map<string, number[]>();
  for (const row of reader.getRows())
    rows.set(
      `${row[0]}@${row[1]}`,
      row.slice(2).map((v) => (v === null ? 0 : Number(v))),
    );
  await conn.run('DROP TABLE result');
  return { seconds, rows };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number) => Math.round(x).toLocaleString('en');

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'netflowgen-bench-'));
try {
  const csv = join(dir, 'flows.csv');
  const t = Date.now();
  generate(csv);
  console.log(
    `generated ${N.toLocaleString('en')} nfdump-CSV records in ${((Date.now() - t) / 1000).toFixed(1)} s; ${REPEAT} interleaved rounds`,
  );

  const child = new URL('./serialize-child.js', import.meta.url).pathname;
  const pin = (await execa('taskset', ['-c', '0', 'true'], { reject: false })).exitCode === 0;
  const cmd = (th: number) => (pin ? ['taskset', '-c', `0-${th - 1}`, 'node', child] : ['node', child]);
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await inst.connect();

  type Ours = { seconds: number; records: number; used: number; nodes: number; minutes: number; maxRssMB: number };
  const ours = new Map<number, Ours[]>(THREADS.map((th) => [th, []]));
  const loads: number[] = [];
  const peers = new Map<string, number[]>(); // "query @ threads" -> seconds
  const results = new Map<string, Map<string, number[]>>(); // query -> rows (threads=1, first round)
  const label = (q: string, th: number) => `${q} (threads=${th})`;
  for (let round = 0; round < REPEAT; round++) {
    for (const th of THREADS) {
      const store = join(dir, `store-${th}-${round}`);
      const c = cmd(th);
      ours
        .get(th)!
        .push(
          JSON.parse(
            (await execa(c[0], [...c.slice(1), csv, '10.0.0.0/16=bench', store, 'nfdump-csv', String(th)])).stdout,
          ) as Ours,
        );
      if (round > 0) rmSync(store, { recursive: true, force: true });
    }
    for (const th of THREADS) {
      await conn.run(`SET threads = ${th}`);
      for (const q of QUERIES) {
        const r = await runQuery(conn, q.sql(csv), q.rows && !results.has(q.name));
        if (r.rows) results.set(q.name, r.rows);
        const key = label(q.name, th);
        (peers.get(key) ?? peers.set(key, []).get(key)!).push(r.seconds);
      }
    }
    loads.push(loadavg()[0]);
    process.stderr.write(`round ${round + 1}/${REPEAT} done\n`);
  }
  const duckRssMB = process.resourceUsage().maxRSS / 1024;

  const ourSec = (th: number) => ours.get(th)!.map((o) => o.seconds);
  const ourMed = (th: number) => median(ourSec(th));
  const line = (name: string, secs: number[]) =>
    `${name.padEnd(50)} ${median(secs).toFixed(2).padStart(7)} s  [${Math.min(...secs).toFixed(2)}-${Math.max(...secs).toFixed(2)}]  ${fmt(N / median(secs)).padStart(11)} rec/s  [${fmt(N / Math.max(...secs))}-${fmt(N / Math.min(...secs))}]`;
  console.log(`\n${N.toLocaleString('en')} records, ${REPEAT} rounds; median [min-max]`);
  for (const th of THREADS)
    console.log(
      line(`netflowgen serialize --threads ${th}${pin ? `, taskset -c 0-${th - 1}` : ''}`, ourSec(th)) +
        `  peak RSS ${median(ours.get(th)!.map((o) => o.maxRssMB)).toFixed(0)} MB`,
    );
  for (const th of THREADS)
    for (const q of QUERIES) console.log(line(label(q.name, th), peers.get(label(q.name, th))!));
  console.log(`DuckDB process peak RSS over all its queries: ${duckRssMB.toFixed(0)} MB`);
  console.log(`1-minute load average after each round: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`\nratios netflowgen / peer at the same thread count (records/s, medians):`);
  for (const th of THREADS)
    for (const q of QUERIES)
      console.log(
        `  --threads ${th} vs ${label(q.name, th).padEnd(47)} ${(median(peers.get(label(q.name, th))!) / ourMed(th)).toFixed(2)}`,
      );
  const top = Math.max(...THREADS);
  const ourRate = N / ourMed(top);
  const bestGrouped = Math.min(
    median(peers.get(label(QUERIES[0].name, top))!),
    median(peers.get(label(QUERIES[1].name, top))!),
  );
  console.log(
    `goal >= 1,000,000 records/s at ${top} threads: ${ourRate >= 1e6 ? 'met' : 'not met'} (${fmt(ourRate)}); ahead of the best grouped DuckDB query at ${top} threads: ${ourMed(top) < bestGrouped ? 'yes' : 'no'}`,
  );

  // Agreement of each grouped query with netflowgen's store (round 1).
  const store = SeriesStore.open(join(dir, `store-${THREADS[0]}-0`));
  const F = store.nFeatures;
  const ourTotals = new Float64Array(F);
  const nodes: Float32Array[] = [];
  for (let node = 0; node < store.nNodes; node++) {
    const x = store.readNode(node);
    nodes.push(x);
    for (let i = 0; i < x.length; i++) ourTotals[i % F] += x[i];
  }
  let agree = [...ours.values()].every((os) => os.every((o) => o.used === N));
  const series = (th: number) => readFileSync(join(dir, `store-${th}-0`, 'series.f32'));
  for (const th of THREADS.slice(1)) {
    const same = series(th).equals(series(THREADS[0]));
    agree &&= same;
    console.log(`store at --threads ${th} byte-identical to --threads ${THREADS[0]}: ${same ? 'yes' : 'NO'}`);
  }
  for (const [name, rows] of results) {
    const duckTotals = new Float64Array(F);
    for (const v of rows.values()) for (let f = 0; f < F; f++) duckTotals[f] += v[f];
    let sampled = 0;
    let mismatches = 0;
    const keys = [...rows.keys()].sort();
    const every = Math.max(1, Math.floor(keys.length / 2000));
    for (let k = 0; k < keys.length; k += every) {
      const [addr, m] = keys[k].split('@');
      const x = nodes[store.nodeIndex(addr)];
      const t0 = Number(m) - store.startMinute;
      const theirs = rows.get(keys[k])!;
      for (let f = 0; f < F; f++) if (x[t0 * F + f] !== theirs[f]) mismatches++;
      sampled++;
    }
    let totalsOff = 0;
    for (let f = 0; f < F; f++)
      if (Math.abs(ourTotals[f] - duckTotals[f]) > 1e-6 * Math.max(1, duckTotals[f])) totalsOff++;
    const ok = mismatches === 0 && totalsOff === 0;
    agree &&= ok;
    console.log(
      `agreement with ${name}: ${sampled} sampled node-minutes x ${F} features, ${mismatches} mismatches; ${F - totalsOff}/${F} feature totals equal; ${ok ? 'OK' : 'DISAGREE'}`,
    );
  }
  console.log(
    `records used by netflowgen in every round: ${[...ours.values()].flatMap((os) => os.map((o) => o.used)).join(', ')} of ${N}`,
  );
  conn.closeSync();
  if (!agree) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
