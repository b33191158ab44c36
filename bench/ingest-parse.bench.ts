/**
 * Parse rate of the nfdump CSV reader, the hot path of ingestion.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/ingest-parse.bench.js [lines=2000000] [--gzip]
 *
 * Writes a temporary nfdump 1.7 CSV file of realistic lines (the 48 columns nfdump prints, random
 * IPv4 addresses, some IPv6, TCP/UDP/ICMP with flags, counts, advancing timestamps), then reads it
 * (1) end to end through nfdumpCsvReader with a sink that sums the fields (file read + split + parse),
 * and (2) parse only, the same lines from memory, in the reader's chunk size. Three rounds each
 * (the first includes JIT warm-up); prints records/s and the best round; deletes the file.
 */
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { CHUNK_BYTES, splitLines } from '../ts/ingest/lines.js';
import { nfdumpCsvReader, nfdumpCsvParserFactory } from '../ts/ingest/nfdump-reader.js';
import type { FlowRecord, RecordSink } from '../ts/ingest/record.js';
import { recordLineHandler } from '../ts/ingest/text-records.js';
import { randomStream } from '../ts/common/rng.js';

const HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';
const TAIL =
  '0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,17/1,0,2026-11-22 09:29:35.096';

function pad(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function fmt(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

async function writeFile(path: string, lines: number, gzip: boolean): Promise<number> {
  const rand = randomStream(42);
  const file = createWriteStream(path);
  const out = gzip ? createGzip() : file;
  if (gzip) (out as NodeJS.ReadWriteStream).pipe(file);
  const done = new Promise<void>((resolve, reject) => {
    file.on('finish', resolve);
    file.on('error', reject);
  });
  out.write(`${HEADER}\n`);
  let t = Date.UTC(2021, 8, 21, 15, 45, 0);
  let batch: string[] = [];
  let bytes = 0;
  for (let i = 0; i < lines; i++) {
    if (rand() < 0.05) t += 1000;
    const r = rand();
    const proto = r < 0.6 ? 'TCP' : r < 0.95 ? 'UDP' : 'ICMP';
    const flg =
      proto === 'TCP'
        ? ['......S.', '...A....', '...AP...', '...A..S.', '...A...F', '.....R..'][Math.floor(rand() * 6)]
        : '........';
    const v6 = rand() < 0.02;
    const sa = v6
      ? `2001:db8:${Math.floor(rand() * 65536).toString(16)}::${Math.floor(rand() * 65536).toString(16)}`
      : `${Math.floor(rand() * 223) + 1}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
    const da = v6 ? '2a01:4f8:221:17d3::2' : `10.10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
    const sp = proto === 'ICMP' ? 0 : Math.floor(rand() * 65536);
    const dp = proto === 'ICMP' ? 771 : [53, 80, 443, 123, 25565][Math.floor(rand() * 5)];
    const pk = 1 + Math.floor(rand() * 20);
    const by = pk * (40 + Math.floor(rand() * 1400));
    const ts = fmt(t);
    const line = `${ts},${ts},0.000,${sa},${da},${sp},${dp},${proto},${flg},0,0,${pk},${by},0,0,${TAIL}\n`;
    bytes += line.length;
    batch.push(line);
    if (batch.length === 10000) {
      if (!out.write(batch.join(''))) await new Promise<void>((r) => out.once('drain', () => r()));
      batch = [];
    }
  }
  out.write(batch.join(''));
  out.end();
  await done;
  return bytes;
}

class SumSink implements RecordSink {
  records = 0;
  rejects = 0;
  pkts = 0;
  bytes = 0;
  addr = 0;
  record(rec: FlowRecord): void {
    this.records++;
    this.pkts += rec.pkts;
    this.bytes += rec.bytes;
    this.addr ^= rec.dst4;
  }
  reject(): void {
    this.rejects++;
  }
}

async function main(): Promise<void> {
  const lines = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 2_000_000);
  const gzip = process.argv.includes('--gzip');
  const dir = mkdtempSync(join(tmpdir(), 'nfg-ingest-bench-'));
  try {
    const path = join(dir, gzip ? 'flows.csv.gz' : 'flows.csv');
    let t0 = performance.now();
    const textBytes = await writeFile(path, lines, gzip);
    console.log(
      `wrote ${lines.toLocaleString()} lines (${(textBytes / 1e6).toFixed(0)} MB of text${gzip ? ', gzip' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    let best = 0;
    for (let round = 0; round < 3; round++) {
      const sink = new SumSink();
      t0 = performance.now();
      await nfdumpCsvReader.read(path, sink);
      const s = (performance.now() - t0) / 1000;
      best = Math.max(best, sink.records / s);
      console.log(
        `end to end (read + split + parse): ${sink.records.toLocaleString()} records, ${sink.rejects} rejects in ${s.toFixed(2)} s = ${(sink.records / s / 1e6).toFixed(2)} M records/s, ${(textBytes / s / 1e6).toFixed(0)} MB/s`,
      );
    }
    console.log(`  best end to end: ${(best / 1e6).toFixed(2)} M records/s`);

    if (!gzip) {
      // parse only: the same text from memory, in 256 KiB chunks
      const { readFileSync } = await import('node:fs');
      const all = readFileSync(path);
      const chunks: Buffer[] = [];
      for (let i = 0; i < all.length; i += CHUNK_BYTES)
        chunks.push(all.subarray(i, Math.min(all.length, i + CHUNK_BYTES)));
      best = 0;
      for (let round = 0; round < 3; round++) {
        const sink = new SumSink();
        t0 = performance.now();
        await splitLines(
          (async function* () {
            yield* chunks;
          })(),
          recordLineHandler(nfdumpCsvParserFactory(sink, path, undefined)),
          { file: path },
        );
        const s = (performance.now() - t0) / 1000;
        best = Math.max(best, sink.records / s);
        console.log(
          `parse only (from memory): ${sink.records.toLocaleString()} records in ${s.toFixed(2)} s = ${(sink.records / s / 1e6).toFixed(2)} M records/s`,
        );
      }
      console.log(`  best parse only: ${(best / 1e6).toFixed(2)} M records/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
