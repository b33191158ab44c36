/**
 * Issue 15, "every core": serialize on several threads (whole files, and nfdump CSV files cut into
 * byte ranges) writes the same store as one thread: the same series bytes, and the same manifest
 * (counts, rejects with their file and line, examples in order, late records), apart from
 * peakOpenChunks, a memory statistic of the windows. Also where a split read cannot be the same
 * (more late records than --max-late-records, a Summary line before the end of a file), it reads again
 * on one thread.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from '../ts/serialize/serialize.js';
import type { SerializeOptions } from '../ts/serialize/options.js';
import type { SeriesStoreManifest } from '../ts/serialize/store.js';
import { twoDaySynth } from './helpers/store.js';
import { useTempDir } from './helpers/tmp.js';

const bytes = (dir: string) => readFileSync(join(dir, 'series.f32'));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SeriesStoreManifest;
function withoutPeak(m: SeriesStoreManifest): SeriesStoreManifest {
  const c = JSON.parse(JSON.stringify(m)) as SeriesStoreManifest;
  delete (c.options as Record<string, unknown>).peakOpenChunks;
  return c;
}

describe('serialize on several threads writes the store of one thread (issue 15)', function () {
  this.timeout(600_000);
  const tmp = useTempDir();
  let flows: string;
  let nodes: string;
  let victim: string;

  before(async () => {
    const s = join(tmp.dir, 'synth');
    await twoDaySynth(s, 7);
    nodes = join(s, 'nodes.csv');
    victim = readFileSync(nodes, 'utf8').split('\n')[1].split(',')[0].replace(/\/32$/, '');
    // Several exporters and damage: a second router's copy of day 1 (overlapping hours), bad lines,
    // a record far behind its file's newest (kept aside as late), a record with a wrong clock (a time
    // outlier), and byte counts past 2^24 on the same node-minute from both routers (float32 sums
    // would depend on their order: the sums are float64, exact).
    flows = join(tmp.dir, 'flows');
    mkdirSync(join(flows, 'r1'), { recursive: true });
    mkdirSync(join(flows, 'r2'));
    const src = join(s, 'flows');
    const days = readdirSync(src).sort();
    expect(days.length).to.be.greaterThan(1);
    for (const f of days) copyFileSync(join(src, f), join(flows, 'r1', f));
    const day1 = readFileSync(join(src, days[0]), 'utf8').split('\n');
    const header = day1[0];
    const cols = header.split(',');
    const rec = (ts: string, sa: string, da: string, byt: number) => {
      const v: Record<string, string> = { ts, te: ts, td: '0.000', sa, da, sp: '443', dp: '51000', pr: 'TCP' };
      Object.assign(v, { flg: '...A....', ipkt: '3', ibyt: String(byt), opkt: '0', obyt: '0' });
      return cols.map((c) => v[c] ?? '0').join(',');
    };
    const copy = [...day1];
    const mid = Math.floor(copy.length / 2);
    copy.splice(mid, 0, rec('2021-09-06 12:00:00', '203.0.113.9', victim, 3_000_000_017));
    copy.splice(mid + 10, 0, 'this,is,not,a,flow');
    copy.splice(mid + 20, 0, rec('2021-09-06 00:01:00', '203.0.113.9', victim, 1500)); // far behind: late
    copy.splice(mid + 30, 0, rec('2031-01-01 00:00:00', '203.0.113.9', victim, 1500)); // time outlier
    copy.splice(mid + 40, 0, rec('2021-09-06 12:00:00', '10.0.0.999', victim, 1500)); // bad address
    writeFileSync(join(flows, 'r2', days[0]), copy.join('\n'));
    const r1 = readFileSync(join(flows, 'r1', days[0]), 'utf8').split('\n');
    r1.splice(3, 0, rec('2021-09-06 12:00:00', '198.51.100.1', victim, 5_000_000_003));
    writeFileSync(join(flows, 'r1', days[0]), r1.join('\n'));
  });

  const run = (out: string, extra: Partial<SerializeOptions> = {}) =>
    serialize({ inputs: [flows], nodes, out: join(tmp.dir, out), ...extra });

  it('files on 1, 2 and 3 threads, and files cut into ranges: the same bytes and manifest, rejects naming file and line', async () => {
    const shown: string[] = [];
    const one = await run('one', { threads: 1, onReject: (e) => shown.push(`${e.file}:${e.line}:${e.reason}`) });
    const outs = [
      ['two', { threads: 2 }],
      ['three', { threads: 3 }],
      ['ranges2', { threads: 2, splitMinBytes: 1 }],
      ['ranges3', { threads: 3, splitMinBytes: 1 }],
    ] as const;
    expect(one.records.used).to.be.greaterThan(10_000);
    expect(one.options.lateRecords).to.be.greaterThan(0);
    expect(one.records.rejected).to.include({ time_outlier: 1, malformed_line: 1, bad_address: 1 });
    // the examples name the file and the line that holds the bad record
    for (const ex of one.records.examples) {
      const text = readFileSync(ex.file, 'utf8').split('\n')[ex.line - 1];
      expect(text, `${ex.file}:${ex.line}`).to.satisfy((t: string) =>
        ex.reason === 'malformed_line'
          ? t === 'this,is,not,a,flow'
          : t.includes('203.0.113.9') || t.includes('10.0.0.999'),
      );
    }
    for (const [out, extra] of outs) {
      const seen: string[] = [];
      const m = await run(out, { ...extra, onReject: (e) => seen.push(`${e.file}:${e.line}:${e.reason}`) });
      expect(bytes(join(tmp.dir, out)).equals(bytes(join(tmp.dir, 'one'))), out).to.equal(true);
      expect(JSON.stringify(withoutPeak(manifest(join(tmp.dir, out)))), out).to.equal(
        JSON.stringify(withoutPeak(manifest(join(tmp.dir, 'one')))),
      );
      expect(withoutPeak(m), out).to.deep.equal(withoutPeak(one));
      expect(seen, out).to.deep.equal(shown);
    }
  });

  it('--strict stops at the same first bad record, naming file, line and field, on any number of threads', async () => {
    const messages: string[] = [];
    for (const extra of [{ threads: 1 }, { threads: 2 }, { threads: 3, splitMinBytes: 1 }]) {
      const err = await run(`strict-${messages.length}`, { ...extra, strict: true }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      messages.push((err as Error).message);
    }
    expect(messages[0]).to.match(/r2\/flows-[^:]*:\d+: (time_outlier|bad_address|malformed_line)/);
    expect(messages).to.deep.equal([messages[0], messages[0], messages[0]]);
  });

  it('more late records than --max-late-records: the out_of_order rejects of one thread (read again on one)', async () => {
    const one = await run('late1', { threads: 1, maxLateRecords: 5, maxRejectShare: 1 });
    const two = await run('late2', { threads: 2, maxLateRecords: 5, maxRejectShare: 1, splitMinBytes: 1 });
    expect(one.records.rejected.out_of_order).to.be.greaterThan(0);
    expect(bytes(join(tmp.dir, 'late2')).equals(bytes(join(tmp.dir, 'late1')))).to.equal(true);
    expect(withoutPeak(two)).to.deep.equal(withoutPeak(one));
  });

  it('a Summary line in the middle of an nfdump CSV file ends its records on any number of threads', async () => {
    const dir = join(tmp.dir, 'summary');
    mkdirSync(dir);
    const f = readdirSync(join(flows, 'r1')).sort()[1];
    const lines = readFileSync(join(flows, 'r1', f), 'utf8').split('\n');
    lines.splice(
      Math.floor(lines.length / 3),
      0,
      'Summary',
      'flows,bytes,packets,avg_bps,avg_pps,avg_bpp',
      '1,2,3,4,5,6',
    );
    writeFileSync(join(dir, f), lines.join('\n'));
    const one = await serialize({ inputs: [dir], nodes, out: join(tmp.dir, 's1'), threads: 1 });
    const three = await serialize({ inputs: [dir], nodes, out: join(tmp.dir, 's3'), threads: 3, splitMinBytes: 1 });
    expect(one.records.read).to.be.lessThan(lines.length / 2);
    expect(bytes(join(tmp.dir, 's3')).equals(bytes(join(tmp.dir, 's1')))).to.equal(true);
    expect(withoutPeak(three)).to.deep.equal(withoutPeak(one));
  });
});
