// Runs one serialize() in its own process so that its time and peak memory are its own.
// Usage: node serialize-child.js INPUT PREFIX OUT [FORMAT, default nfdump-csv] [THREADS, default 1]  -> prints one JSON line.
import type { InputFormat } from '../ts/ingest/record.js';
import { serialize } from '../ts/serialize/serialize.js';
import { peakRssMB } from './stats.js';

const [input, prefix, out, format = 'nfdump-csv', threads = '1'] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const m = await serialize({
  inputs: [input],
  prefixes: [prefix],
  out,
  force: true,
  format: format as InputFormat,
  threads: Number(threads),
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  JSON.stringify({
    seconds,
    records: m.records.read,
    used: m.records.used,
    nodes: m.nodes.length,
    minutes: m.minutes,
    maxRssMB: peakRssMB(), // worker threads included
  }) + '\n',
);
