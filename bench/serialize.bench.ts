/**
 * npm run bench:serialize — ingestion speed and memory, against DuckDB in the same run.
 *
 * 1. Generates BENCH_RECORDS (default 10,000,000) nfdump-1.7 CSV records (all 48 columns nfdump
 *    writes) over one day: about 500 nodes in 10.0.0.0/16 (the paper has 520), mixed protocols,
 *    ports and flags. The store is dense (nodes x minutes x 86), so its size does not depend on
 *    the number of records: fewer nodes means more records per node-minute, as in ISP data.
 * 2. netflowgen serialize on one core (its own process, pinned with taskset when available):
 *    records/s and peak RSS.
 * 3. DuckDB (@duckdb/node-api, threads=1): the same 86 sums with SQL GROUP BY over the same file.
 * 4. Checks both agree (every feature's grand total, and about 2,000 sampled
 *    node-minutes exactly), then prints the ratio.
 * BENCH_DIR picks the scratch folder (default: the OS temp folder); it is removed afterwards.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { execa } from 'execa';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURES, PORT_CLASSES } from '../ts/catalogue/features.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { randomStream } from '../ts/common/rng.js';

const N = Number(process.env.BENCH_RECORDS ?? 10_000_000);
const NODES = 500; // the paper's filtered data has 520 nodes
const HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';
const TAIL = ',0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,0/0,0,1970-01-01 00:00:00.000';

function generate(path: string): void {
  const r = randomStream(42);
  const fd = openSync(path, 'w');
  writeSync(fd, HEADER + '\n');
  const protos = ['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP', 'GRE'];
  const flags = ['...A....', '...AP...', '......S.', '...A..S.', '...A...F', '.....R..', '...AP..F', '........', '..UAP.SF'];
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

/** The SQL condition of one catalogue feature over the per-direction rows `d` (dir 0 in, 1 out). */
function featureSql(i: number): string {
  const f = FEATURES[i];
  const conds = [`dir = ${f.direction === 'in' ? 0 : 1}`];
  const value = f.measure === 'pkt' ? 'pkt' : f.measure === 'byt' ? 'byt' : '1';
  if (f.group === 'protocol') {
    conds.push({ icmp: "pr IN ('ICMP','ICMP6')", tcp: "pr = 'TCP'", udp: "pr = 'UDP'", other: "pr NOT IN ('ICMP','ICMP6','TCP','UDP')" }[f.cls as string]!);
  } else if (f.group === 'port') {
    conds.push(`pcls = ${PORT_CLASSES.indexOf(f.cls as (typeof PORT_CLASSES)[number])}`);
  } else if (f.group === 'flag') {
    conds.push(`pr = 'TCP' AND flagbyte = ${f.cls as number}`);
  }
  return `sum(${value}) FILTER (WHERE ${conds.join(' AND ')})`;
}

async function duckdb(path: string): Promise<{ seconds: number; rows: Map<string, number[]>; rssMB: number }> {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await inst.connect();
  const flagExpr = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'].map((ch, b) => `(CASE WHEN strpos(flg, '${ch}') > 0 THEN ${1 << b} ELSE 0 END)`).join(' + ');
  const portCls = (p: string) =>
    `CASE WHEN pr NOT IN ('TCP','UDP') OR ${p} <= 0 THEN 0 WHEN ${p} = 53 THEN 1 WHEN ${p} = 80 THEN 2 WHEN ${p} = 123 THEN 3 WHEN ${p} = 443 THEN 4 WHEN ${p} <= 1023 THEN 5 WHEN ${p} <= 49151 THEN 6 ELSE 7 END`;
  const sql = `
    WITH f AS (SELECT ts, sa, da, sp, dp, pr, flg, ipkt, ibyt FROM read_csv('${path}', header = true, delim = ',', all_varchar = false,
                 types = {'ts': 'TIMESTAMP', 'sa': 'VARCHAR', 'da': 'VARCHAR', 'sp': 'INTEGER', 'dp': 'INTEGER', 'pr': 'VARCHAR', 'flg': 'VARCHAR', 'ipkt': 'BIGINT', 'ibyt': 'BIGINT'})),
    d AS (
      SELECT da AS node, date_trunc('minute', ts) AS minute, 0 AS dir, pr, ${portCls('dp')} AS pcls, ${flagExpr} AS flagbyte, ipkt AS pkt, ibyt AS byt FROM f WHERE starts_with(da, '10.0.')
      UNION ALL
      SELECT sa, date_trunc('minute', ts), 1, pr, ${portCls('sp')}, ${flagExpr}, ipkt, ibyt FROM f WHERE starts_with(sa, '10.0.')
    )
    SELECT node, epoch(minute)::BIGINT // 60 AS m, ${FEATURES.map((_, i) => featureSql(i) + ` AS f${i}`).join(', ')}
    FROM d GROUP BY node, minute`;
  const t0 = process.hrtime.bigint();
  const reader = await conn.runAndReadAll(sql);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rows = new Map<string, number[]>();
  for (const row of reader.getRows()) rows.set(`${row[0]}@${row[1]}`, row.slice(2).map((v) => (v === null ? 0 : Number(v))));
  const rssMB = process.resourceUsage().maxRSS / 1024;
  conn.closeSync();
  return { seconds, rows, rssMB };
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'netflowgen-bench-'));
try {
  const csv = join(dir, 'flows.csv');
  let t = Date.now();
  generate(csv);
  console.log(`generated ${N.toLocaleString('en')} nfdump-CSV records in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const child = new URL('./serialize-child.js', import.meta.url).pathname;
  const pin = (await execa('taskset', ['-c', '0', 'true'], { reject: false })).exitCode === 0;
  const cmd = pin ? ['taskset', '-c', '0', 'node', child] : ['node', child];
  const ours = JSON.parse((await execa(cmd[0], [...cmd.slice(1), csv, '10.0.0.0/16=bench', join(dir, 'store')])).stdout) as { seconds: number; records: number; used: number; nodes: number; minutes: number; maxRssMB: number };
  const ourRate = ours.records / ours.seconds;
  console.log(`netflowgen serialize: ${ours.seconds.toFixed(2)} s, ${Math.round(ourRate).toLocaleString('en')} records/s on one core${pin ? ' (taskset -c 0)' : ''}, peak RSS ${ours.maxRssMB.toFixed(0)} MB, ${ours.nodes} nodes x ${ours.minutes} minutes`);

  t = Date.now();
  const duck = await duckdb(csv);
  const duckRate = N / duck.seconds;
  console.log(`DuckDB (threads=1) GROUP BY with the same 86 sums: ${duck.seconds.toFixed(2)} s, ${Math.round(duckRate).toLocaleString('en')} records/s, process peak RSS ${duck.rssMB.toFixed(0)} MB`);

  // Agreement.
  const store = SeriesStore.open(join(dir, 'store'));
  const F = store.nFeatures;
  const ourTotals = new Float64Array(F);
  const duckTotals = new Float64Array(F);
  for (const v of duck.rows.values()) for (let f = 0; f < F; f++) duckTotals[f] += v[f];
  let sampled = 0;
  let mismatches = 0;
  const every = Math.max(1, Math.floor(duck.rows.size / 2000));
  const keys = [...duck.rows.keys()];
  const wanted = new Map<number, string[]>();
  for (let k = 0; k < keys.length; k += every) {
    const [addr] = keys[k].split('@');
    const id = store.nodeIndex(addr);
    (wanted.get(id) ?? wanted.set(id, []).get(id)!).push(keys[k]);
  }
  for (let node = 0; node < store.nNodes; node++) {
    const x = store.readNode(node);
    for (let i = 0; i < x.length; i++) ourTotals[i % F] += x[i];
    for (const key of wanted.get(node) ?? []) {
      const t0 = Number(key.split('@')[1]) - store.startMinute;
      const theirs = duck.rows.get(key)!;
      for (let f = 0; f < F; f++) if (x[t0 * F + f] !== theirs[f]) mismatches++;
      sampled++;
    }
  }
  let totalsOff = 0;
  for (let f = 0; f < F; f++) if (Math.abs(ourTotals[f] - duckTotals[f]) > 1e-6 * Math.max(1, duckTotals[f])) totalsOff++;
  const agree = mismatches === 0 && totalsOff === 0 && ours.used === N;
  console.log(`agreement: ${sampled} sampled node-minutes x 86 features, ${mismatches} mismatches; ${F - totalsOff}/${F} feature totals equal; ${agree ? 'OK' : 'DISAGREE'}`);
  console.log(`ratio netflowgen / DuckDB (records/s, one thread each): ${(ourRate / duckRate).toFixed(2)}  (goal: >= 1.0 and >= 1,000,000 records/s: ${ourRate >= 1e6 ? 'met' : 'not met'})`);
  if (!agree) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
