/**
 * The input files as serialize plans them. Its first pass (when --from/--to are not both given)
 * reads every file's records for their start minutes only, into a histogram (minute -> records) from
 * which range.ts takes the bulk of the data; those are `scan` jobs (job.ts). A spread flow also marks
 * its end minute (count 0), so the range may widen to it. Each file's first minute orders it when its
 * name does not (nfcapd names carry their time).
 */
import type { InputFormat } from '../ingest/record.js';

/** One input file as serialize sees it. */
export interface Planned {
  path: string;
  bytes: number;
  format: InputFormat;
  /** Time used to order the files: the nfcapd name's minute, else the first record's. */
  orderMinute: number;
}
