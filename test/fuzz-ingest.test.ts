/**
 * Issue 11: random corruptions of the real samples (truncation, flipped bytes, shuffled and
 * duplicated lines, stray timestamps, wrong column counts), with fast-check. Whatever the damage:
 * never a crash (only the errors that explain bad input), `read = used + unmatched + outsideRange +
 * rejected by reason` always, and nothing half-written (a complete store, or no folder at all).
 *
 * Bounded: NETFLOWGEN_FUZZ_RUNS cases per format (default 25, nfcapd 6: nfdump runs twice a case),
 * from NETFLOWGEN_FUZZ_SEED (default fixed, so a failure reproduces; fast-check prints the seed and
 * the shrunk case).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from '../ts/serialize/serialize.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const RUNS = Number(process.env.NETFLOWGEN_FUZZ_RUNS ?? 25);
const SEED = Number(process.env.NETFLOWGEN_FUZZ_SEED ?? 20260111);
const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;

/** The head of a real sample (header and `lines` records), as bytes. */
function head(path: string, lines: number): Buffer {
  return Buffer.from(
    readFileSync(path, 'latin1')
      .split('\n')
      .slice(0, lines + 1)
      .join('\n') + '\n',
    'latin1',
  );
}

const SAMPLES = {
  'nfdump-csv': {
    bytes: () => head(join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv'), 150),
    prefixes: ['10.10.10.0/24=victim'],
  },
  argus: {
    bytes: () => head(join(REAL, 'stratosphere/test2-malicious.binetflow'), 150),
    prefixes: ['10.8.0.0/24=lab'],
  },
  cicflowmeter: {
    bytes: () => head(join(REAL, 'cicddos2019-csv/DrDoS_NTP.csv'), 120),
    prefixes: ['192.168.50.0/24=lab'],
  },
  nfcapd: {
    bytes: () => readFileSync(join(REAL, 'stratosphere/test1-malicious.nfdump')),
    prefixes: ['147.32.0.0/16=ctu'],
  },
};

type Corruption =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number[]; value: number }
  | { kind: 'shuffle'; seed: number }
  | { kind: 'duplicate'; line: number; times: number }
  | { kind: 'year'; line: number; year: number }
  | { kind: 'columns'; line: number; delta: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 8 }),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('shuffle' as const), seed: fc.integer() }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('year' as const), line: fc.nat(), year: fc.integer({ min: 1900, max: 2200 }) }),
  fc.record({
    kind: fc.constant('columns' as const),
    line: fc.nat(),
    delta: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0),
  }),
);

/** A text file with the corruptions applied in order (lines after the header, bytes anywhere). */
function corrupt(src: Buffer, list: Corruption[], binary: boolean): Buffer {
  let buf = Buffer.from(src);
  for (const c of list) {
    if (c.kind === 'truncate') buf = buf.subarray(0, Math.floor(c.at * buf.length));
    else if (c.kind === 'flip') {
      buf = Buffer.from(buf);
      for (const at of c.at) if (buf.length) buf[Math.floor(at * buf.length)] = c.value;
    } else if (binary) continue;
    else {
      const lines = buf.toString('latin1').split('\n');
      const [header, body] = [lines[0], lines.slice(1)];
      if (!body.length) continue;
      const i = c.kind === 'shuffle' ? 0 : c.line % body.length;
      if (c.kind === 'shuffle') {
        let s = c.seed | 0;
        for (let k = body.length - 1; k > 0; k--) {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          const j = Math.abs(s) % (k + 1);
          [body[k], body[j]] = [body[j], body[k]];
        }
      } else if (c.kind === 'duplicate') body.splice(i, 0, ...Array(c.times).fill(body[i]));
      else if (c.kind === 'year')
        body[i] = body[i]
          .replace(/\d{4}(?=[-/]\d\d[-/]\d\d)/, String(c.year))
          .replace(/^1\d{12}/, String(Date.UTC(c.year, 0, 1)));
      else {
        const f = body[i].split(',');
        body[i] = (
          c.delta > 0 ? [...f, ...Array(c.delta).fill('x')] : f.slice(0, Math.max(0, f.length + c.delta))
        ).join(',');
      }
      buf = Buffer.from([header, ...body].join('\n'), 'latin1');
    }
  }
  return buf;
}

/** The errors a damaged input may end in: each says what is wrong with the input, never a crash. */
const EXPLAINED = ['InputError', 'OutputError', 'RejectShareError'];
const EXPLAINED_PLAIN = [/^no record was used from /, /^the store would be /, /: unknown flow file format/];

function checkStore(dir: string): void {
  const store = SeriesStore.open(dir); // validates the manifest against the schema and dataBytes
  expect(statSync(join(dir, 'series.f32')).size).to.equal(store.manifest.dataBytes);
  const r = store.manifest.records;
  const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  expect(r.read, JSON.stringify(r)).to.equal(r.used + r.unmatched + r.outsideRange + rejected);
  const kept = (store.manifest.skipped ?? []).reduce((a, s) => a + (s.recordsKept ?? 0), 0);
  expect(r.read).to.equal(store.manifest.inputs.reduce((a, i) => a + i.records, 0) + kept);
}

describe('fuzz: serialize never crashes on corrupted real samples (issue 11)', function () {
  this.timeout(600_000);
  const tmp = useTempDir('netflowgen-fuzz-');

  for (const [format, sample] of Object.entries(SAMPLES)) {
    it(`${format}: counts add up, the store is whole or absent, errors explain the input`, async () => {
      const src = sample.bytes();
      const binary = format === 'nfcapd';
      let n = 0;
      const outcomes: Record<string, number> = {
        store: 0,
        Error: 0,
        InputError: 0,
        OutputError: 0,
        RejectShareError: 0,
      };
      await fc.assert(
        fc.asyncProperty(fc.array(corruption, { minLength: 1, maxLength: 3 }), fc.boolean(), async (list, strict) => {
          const dir = join(tmp.dir, `${format}-${n++}`);
          rmSync(dir, { recursive: true, force: true });
          const file = join(tmp.dir, binary ? `nfcapd.20180112153${n % 10}` : `${format}-${n}.csv`);
          writeFileSync(file, corrupt(src, list, binary));
          const out = join(dir, 'store');
          let err: Error | null = null;
          try {
            await serialize({ inputs: [file], prefixes: sample.prefixes, out, strict, maxRejectShare: 1 });
          } catch (e) {
            err = e as Error;
          }
          outcomes[err ? err.name : 'store']++;
          if (err) {
            const explained = EXPLAINED.includes(err.name) || EXPLAINED_PLAIN.some((re) => re.test(err!.message));
            expect(explained, `${err.name}: ${err.message}\n${err.stack}`).to.equal(true);
            expect(existsSync(out), 'no store after an error').to.equal(false);
          } else checkStore(out);
          // nothing half-written: no temporary folder left beside the store
          if (existsSync(dir)) expect(readdirSync(dir).filter((f) => f.includes('.partial'))).to.deep.equal([]);
          rmSync(dir, { recursive: true, force: true });
          rmSync(file, { force: true });
        }),
        { numRuns: binary ? Math.max(2, Math.round(RUNS / 4)) : RUNS, seed: SEED, endOnFailure: true },
      );
      // most cases must reach a store: a fuzz that only meets early errors tests nothing
      expect(outcomes.store, JSON.stringify(outcomes)).to.be.greaterThan(0);
      if (process.env.NETFLOWGEN_FUZZ_RUNS) process.stderr.write(`      ${format}: ${JSON.stringify(outcomes)}\n`);
    });
  }

  it('the command line: exit code 0 or 1, one line of error, never a stack trace', async () => {
    const src = SAMPLES['nfdump-csv'].bytes();
    const cases = fc.sample(fc.array(corruption, { minLength: 1, maxLength: 3 }), { numRuns: 4, seed: SEED });
    for (const [k, list] of cases.entries()) {
      const file = join(tmp.dir, `cli-${k}.csv`);
      writeFileSync(file, corrupt(src, list, false));
      const r = await execa(
        'node',
        [CLI, 'serialize', '-i', file, '--prefix', '10.10.10.0/24=victim', '-o', join(tmp.dir, `cli-${k}`), '--strict'],
        { reject: false, env: { NETFLOWGEN_PROGRESS: '0' } },
      );
      expect([0, 1], r.stderr).to.include(r.exitCode);
      expect(r.stderr, JSON.stringify(list)).not.to.match(/\n\s+at .+:\d+:\d+/);
      if (r.exitCode === 1)
        expect(
          r.stderr
            .trim()
            .split('\n')
            .filter((l) => l.startsWith('netflowgen:')),
        ).to.have.length(1);
    }
  });
});
