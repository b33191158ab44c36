/**
 * Serialize's first pass when --from/--to are not both given: every file's records read for their
 * start minutes only, into a histogram (minute -> records) from which range.ts takes the bulk of the
 * data. A spread flow also marks its end minute (count 0), so the range may widen to it. Each file's
 * first minute orders it when its name does not (nfcapd names carry their time).
 */
import { InputError, type FlowRecord, type InputFormat, type RecordSink } from '../ingest/record.js';
import { readerFor } from '../ingest/index.js';
import { createProgress } from '../common/progress.js';
import type { SerializeOptions } from './options.js';
import { abortError } from './outcome.js';

/** One input file as serialize sees it. */
export interface Planned {
  path: string;
  bytes: number;
  format: InputFormat;
  /** Time used to order the files: the nfcapd name's minute, else the first record's. */
  orderMinute: number;
}

/**
 * The histogram of record start minutes in [givenFrom, givenTo) over `planned` (their orderMinute set
 * from their first record where it is NaN). A file that cannot be read goes to `onFail` and adds nothing.
 */
export async function timeHistogram(
  planned: Planned[],
  totalBytes: number,
  opts: Pick<SerializeOptions, 'signal' | 'utcOffsetHours' | 'spreadLongFlows'>,
  givenFrom: number,
  givenTo: number,
  onFail: (f: Planned, e: InputError) => void,
): Promise<Map<number, number>> {
  const hist = new Map<number, number>();
  const scanBar = createProgress('serialize: times', totalBytes, '{bar} {percentage}% | {mb} MB | ETA {eta_formatted}');
  let before = 0;
  try {
    for (const f of planned) {
      if (opts.signal?.aborted) throw abortError();
      const mine = new Map<number, number>();
      let first = NaN;
      const sink: RecordSink = {
        record(rec: FlowRecord): void {
          const m = Math.floor(rec.startMs / 60_000);
          if (m < givenFrom || m >= givenTo) return;
          if (first !== first) first = m;
          mine.set(m, (mine.get(m) ?? 0) + 1);
          // a spread flow reaches its end minute: the range may widen to it (without counting it twice)
          if (opts.spreadLongFlows && rec.endMs > rec.startMs) {
            const e = Math.floor(rec.endMs / 60_000);
            if (e > m && e < givenTo && !mine.has(e)) mine.set(e, 0);
          }
        },
        reject(): void {},
        progress(bytes: number): void {
          scanBar.update(before + bytes, { mb: ((before + bytes) / 1e6).toFixed(1) });
        },
      };
      try {
        await readerFor(f.format).read(f.path, sink, {
          signal: opts.signal,
          utcOffsetHours: opts.utcOffsetHours,
        });
      } catch (e) {
        if (!(e instanceof InputError) || (e.reason !== 'io' && e.reason !== 'format')) throw e;
        onFail(f, e);
        continue;
      } finally {
        before += f.bytes;
      }
      for (const [m, n] of mine) hist.set(m, (hist.get(m) ?? 0) + n);
      if (f.orderMinute !== f.orderMinute) f.orderMinute = first;
    }
  } finally {
    scanBar.stop();
  }
  return hist;
}
