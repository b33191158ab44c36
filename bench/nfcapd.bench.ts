/**
 * npm run bench:nfcapd [RECORDS] — nfcapd-to-store records/s through nfdump's full CSV (`-o csv`, how
 * the nfcapd reader read before) and through the 12 fields it asks for now (`-N -6 -o fmt:...`),
 * against nfdump alone printing each of them to /dev/null (the floor: netflowgen cannot be faster
 * than the nfdump it reads from).
 *
 * 1. Writes a pcap of RECORDS (argv, else BENCH_RECORDS, default 1,000,000) one-packet flows over one
 *    day: about 500 nodes in 10.0.0.0/16, 70% of the flows towards them, TCP (with flags), UDP and
 *    ICMP, random other ends and ephemeral ports; nfpcapd turns it into nfcapd files (one per 5
 *    minutes, as nfcapd rotates them), which `nfdump -R DIR -w FILE` merges into one nfcapd file.
 * 2. BENCH_REPEAT rounds (default 5), each side once per round, interleaved, each in its own process:
 *    - floor: `nfdump -r FILE -o csv > /dev/null`, and the same with the fmt output;
 *    - netflowgen serialize --format nfcapd with NETFLOWGEN_NFDUMP_OUTPUT=csv (before: both passes read
 *      nfdump's full CSV) and without (now: the first pass asks for `%ts,%te`, the second for the 12
 *      fields).
 *    Nothing is pinned: nfdump and node run side by side, as in a real run (two processes, a pipe).
 * 3. Prints median and min-max of seconds and records/s, the ratios, the load average, and checks that
 *    the two stores are byte-identical.
 * BENCH_DIR picks the scratch folder (default: the OS temp folder); it is removed afterwards.
 */
import { execa } from 'execa';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NFDUMP_FMT } from '../ts/ingest/nfdump-fields.js';
import { randomStream } from '../ts/common/rng.js';

const N = Number(process.argv[2] ?? process.env.BENCH_RECORDS ?? 1_000_000);
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 5));
const NODES = 500;
const DAY_START = Date.UTC(2024, 2, 1) / 1000;

/** A pcap (Ethernet, IPv4) of N one-packet flows spread over one day. */
function writePcap(path: string): void {
  const r = randomStream(42);
  const fd = openSync(path, 'w');
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  writeSync(fd, head);
  const out = Buffer.alloc(1 << 22);
  let n = 0;
  const tcpFlags = [0x10, 0x18, 0x02, 0x12, 0x11, 0x04, 0x19, 0x00];
  const ports = [53, 80, 123, 443, 22, 25, 8080, 3306, 51234, 61000];
  for (let i = 0; i < N; i++) {
    if (n > out.length - 256) {
      writeSync(fd, out, 0, n);
      n = 0;
    }
    const usec = Math.floor((i / N) * 86400 * 1e6);
    const node = (10 << 24) + (Math.floor(r() * r() * NODES) & 0xffff);
    const other = ((1 + Math.floor(r() * 220)) << 24) + Math.floor(r() * 0xffffff);
    const incoming = r() < 0.7;
    const x = r();
    const proto = x < 0.45 ? 6 : x < 0.8 ? 17 : 1;
    const svc = ports[Math.floor(r() * ports.length)];
    const eph = 1024 + Math.floor(r() * 64000);
    const payload = Math.floor(r() * 64);
    const l4 = proto === 6 ? 20 : 8;
    const ipLen = 20 + l4 + payload;
    const [sa, da, sp, dp] = incoming ? [other, node, eph, svc] : [node, other, svc, eph];
    out.writeUInt32LE(DAY_START + Math.floor(usec / 1e6), n);
    out.writeUInt32LE(usec % 1e6, n + 4);
    out.writeUInt32LE(14 + ipLen, n + 8);
    out.writeUInt32LE(14 + ipLen, n + 12);
    n += 16;
    out.fill(0, n, n + 14 + ipLen);
    out.writeUInt16BE(0x0800, n + 12);
    n += 14;
    out[n] = 0x45;
    out.writeUInt16BE(ipLen, n + 2);
    out[n + 8] = 64;
    out[n + 9] = proto;
    out.writeUInt32BE(sa >>> 0, n + 12);
    out.writeUInt32BE(da >>> 0, n + 16);
    n += 20;
    if (proto === 1) {
      out[n] = r() < 0.5 ? 8 : 3; // echo request, or destination unreachable
      out[n + 1] = out[n] === 3 ? Math.floor(r() * 4) : 0;
    } else {
      out.writeUInt16BE(sp, n);
      out.writeUInt16BE(dp, n + 2);
      if (proto === 6) {
        out[n + 12] = 0x50;
        out[n + 13] = tcpFlags[Math.floor(r() * tcpFlags.length)];
      } else out.writeUInt16BE(8 + payload, n + 4);
    }
    n += l4 + payload;
  }
  writeSync(fd, out, 0, n);
  closeSync(fd);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number) => Math.round(x).toLocaleString('en');
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'netflowgen-bench-nfcapd-'));
try {
  const pcap = join(dir, 'flows.pcap');
  const caps = join(dir, 'caps');
  const file = join(dir, 'flows.nfcapd');
  mkdirSync(caps);
  let t0 = process.hrtime.bigint();
  writePcap(pcap);
  await execa('nfpcapd', ['-r', pcap, '-w', caps]);
  await execa('nfdump', ['-R', caps, '-w', file]);
  rmSync(pcap);
  rmSync(caps, { recursive: true });
  const stat = await execa('nfdump', ['-q', '-r', file, '-o', 'fmt:%fl'], { buffer: true });
  const records = stat.stdout.split('\n').filter((l) => l.trim() !== '').length;
  console.log(
    `wrote ${fmt(N)} one-packet flows as pcap, nfpcapd + nfdump -R made one nfcapd file of ${fmt(records)} records in ${seconds(t0).toFixed(1)} s; ${REPEAT} interleaved rounds; ${cpus().length} cores, nothing pinned`,
  );

  const child = new URL('./serialize-child.js', import.meta.url).pathname;
  const env = { TZ: 'UTC', LC_ALL: 'C' };
  const sides: { name: string; run: (round: number) => Promise<void> }[] = [
    {
      name: 'floor: nfdump -r FILE -o csv > /dev/null',
      run: async () => void (await execa('nfdump', ['-r', file, '-o', 'csv'], { env, stdout: 'ignore' })),
    },
    {
      name: `floor: nfdump -N -6 -r FILE -o '${NFDUMP_FMT.slice(0, 12)}...' > /dev/null`,
      run: async () =>
        void (await execa('nfdump', ['-N', '-6', '-r', file, '-o', NFDUMP_FMT], { env, stdout: 'ignore' })),
    },
    {
      name: 'serialize, nfdump -o csv (before)',
      run: async (round) =>
        void (await execa('node', [child, file, '10.0.0.0/16=bench', join(dir, `csv-${round}`), 'nfcapd'], {
          env: { ...process.env, NETFLOWGEN_NFDUMP_OUTPUT: 'csv' },
        })),
    },
    {
      name: 'serialize, nfdump -o fmt: 12 fields, first pass %ts,%te (now)',
      run: async (round) =>
        void (await execa('node', [child, file, '10.0.0.0/16=bench', join(dir, `fmt-${round}`), 'nfcapd'], {
          env: { ...process.env, NETFLOWGEN_NFDUMP_OUTPUT: '' },
        })),
    },
  ];
  const times = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  const loads: number[] = [];
  for (let round = 0; round < REPEAT; round++) {
    for (const s of sides) {
      t0 = process.hrtime.bigint();
      await s.run(round);
      times.get(s.name)!.push(seconds(t0));
    }
    loads.push(loadavg()[0]);
    process.stderr.write(`round ${round + 1}/${REPEAT} done\n`);
  }

  const line = (name: string, secs: number[]) =>
    `${name.padEnd(58)} ${median(secs).toFixed(2).padStart(6)} s [${Math.min(...secs).toFixed(2)}-${Math.max(...secs).toFixed(2)}]  ${fmt(records / median(secs)).padStart(10)} rec/s [${fmt(records / Math.max(...secs))}-${fmt(records / Math.min(...secs))}]`;
  console.log(
    `\n${fmt(records)} records, ${REPEAT} rounds; median [min-max] (serialize: whole process, node start included)`,
  );
  for (const s of sides) console.log(line(s.name, times.get(s.name)!));
  const med = (i: number) => median(times.get(sides[i].name)!);
  console.log(`\nnow / before (records/s): ${(med(2) / med(3)).toFixed(2)}`);
  console.log(
    `now / its floor (nfdump fmt alone): ${(med(1) / med(3)).toFixed(2)}; before / its floor (nfdump csv alone): ${(med(0) / med(2)).toFixed(2)}`,
  );
  console.log(`now / nfdump -o csv alone: ${(med(0) / med(3)).toFixed(2)}`);
  console.log(`1-minute load average after each round: ${loads.map((l) => l.toFixed(2)).join(', ')}`);

  const same = (a: string, b: string) => {
    for (const f of readdirSync(a)) {
      if (f === 'manifest.json') continue;
      if (!readFileSync(join(a, f)).equals(readFileSync(join(b, f)))) return false;
    }
    return true;
  };
  const ok = same(join(dir, 'csv-0'), join(dir, 'fmt-0'));
  console.log(`stores of the two ways byte-identical (every file but the manifest): ${ok ? 'yes' : 'NO'}`);
  if (!ok) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
