/**
 * fairseq-train's output, line by line, as records for run.jsonl, and the summary of a run's records
 * for result.json. With --log-format json the metric lines look like
 *
 *   2024-05-01 10:00:00 | INFO | train_inner | {"epoch": 1, "update": 0.5, "loss": "2.301", "num_updates": "20", ...}
 *   2024-05-01 10:00:01 | INFO | valid | {"epoch": 1, "valid_loss": "2.1", "valid_acc": "0.61", ..., "valid_num_updates": "40"}
 *
 * (validation on another subset, e.g. fine-tuning's `holdout`, is tagged and prefixed with its name and
 * becomes a `valid` record too)
 * (numbers arrive as strings and become numbers here); a few plain-text lines matter too: checkpoint
 * saves and loads, the number of updates per epoch, early stopping, the end of training.
 */

/** One record of run.jsonl: fairseq's (event = its log tag or a known message) or the driver's own. */
export interface RunRecord {
  event: string;
  time?: string;
  [key: string]: unknown;
}

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| (\w+) \| ([\w.]+) \| (.*)$/;
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$/i;

/** '2.301' -> 2.301; 'inf' -> Infinity; other values unchanged. */
function toNumber(v: unknown): unknown {
  if (typeof v !== 'string' || !NUMERIC.test(v)) return v;
  return Number(v.replace(/^([-+]?)inf$/i, '$1Infinity'));
}

const TRAIN_TAGS = new Set(['train_inner', 'train']);

/**
 * A fairseq output line as a record, or undefined for lines of no interest (the config dump, the
 * model printout, warnings of libraries: they stay in train.log).
 */
export function parseLogLine(line: string): RunRecord | undefined {
  const m = LINE.exec(line.trimEnd());
  if (!m) return undefined;
  const [, time, level, source, text] = m;
  if (text.startsWith('{') && /^\w+$/.test(source)) {
    let stats: Record<string, unknown>;
    try {
      stats = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (TRAIN_TAGS.has(source)) {
      const out: RunRecord = { event: source, time };
      for (const [k, v] of Object.entries(stats)) out[k] = toNumber(v);
      return out;
    }
    // Validation on a subset: fairseq tags the line and prefixes the metrics with the subset's name
    // (valid, or e.g. the fine-tuning task's holdout). Every validation becomes a 'valid' record with
    // valid_ metrics; `subset` names any other subset.
    const prefix = `${source}_`;
    if (!Object.keys(stats).some((k) => k.startsWith(prefix))) return undefined;
    const out: RunRecord = { event: 'valid', time };
    if (source !== 'valid') out.subset = source;
    for (const [k, v] of Object.entries(stats))
      out[k.startsWith(prefix) ? `valid_${k.slice(prefix.length)}` : k] = toNumber(v);
    return out;
  }
  let x: RegExpExecArray | null;
  if ((x = /^Saved checkpoint (.+?) \(epoch (\d+) @ (\d+) updates, score ([^)]+)\)/.exec(text)))
    return { event: 'checkpoint', time, path: x[1], epoch: Number(x[2]), updates: Number(x[3]), score: toNumber(x[4]) };
  if ((x = /^Loaded checkpoint (.+?) \(epoch (\d+) @ (\d+) updates\)/.exec(text)))
    return { event: 'checkpoint_loaded', time, path: x[1], epoch: Number(x[2]), updates: Number(x[3]) };
  if ((x = /^No existing checkpoint found (.+)$/.exec(text))) return { event: 'no_checkpoint', time, path: x[1] };
  if ((x = /^grouped total_num_itrs = (\d+)/.exec(text))) return { event: 'epoch_size', time, updates: Number(x[1]) };
  if ((x = /^begin training epoch (\d+)/.exec(text))) return { event: 'epoch_start', time, epoch: Number(x[1]) };
  if ((x = /^early stop since valid performance hasn't improved for last (\d+) runs/.exec(text)))
    return { event: 'early_stop', time, patience: Number(x[1]) };
  if ((x = /^Stopping training due to (.+)$/.exec(text))) return { event: 'stop', time, reason: x[1] };
  if ((x = /^done training in ([\d.]+) seconds/.exec(text))) return { event: 'done', time, seconds: Number(x[1]) };
  if ((x = /^num\. shared model params: ([\d,]+) \(num\. trained: ([\d,]+)\)/.exec(text)))
    return { event: 'params', time, total: Number(x[1].replace(/,/g, '')), trained: Number(x[2].replace(/,/g, '')) };
  if (level === 'WARNING' || level === 'ERROR' || level === 'CRITICAL')
    return { event: level.toLowerCase(), time, source, message: text };
  return undefined;
}

/** Validation metrics without the valid_ prefix: loss, ppl, acc, acc_volume ... */
export interface ValidMetrics {
  epoch: number;
  updates: number;
  loss: number;
  ppl: number;
  acc?: number;
  [metric: string]: number | undefined;
}

const VALID_SKIP = new Set(['wps', 'wpb', 'bsz', 'num_updates', 'best_loss', 'subset']);

/** A `valid` record as metrics: valid_loss -> loss, valid_acc_port -> acc_port; throughput fields dropped. */
export function validMetrics(r: RunRecord): ValidMetrics {
  const out: Record<string, number> = { epoch: Number(r.epoch), updates: Number(r.valid_num_updates) };
  for (const [k, v] of Object.entries(r)) {
    if (!k.startsWith('valid_') || typeof v !== 'number') continue;
    const name = k.slice('valid_'.length);
    if (!VALID_SKIP.has(name)) out[name] = v;
  }
  return out as unknown as ValidMetrics;
}

export interface RunSummary {
  /** The validation with the lowest loss (the one checkpoint_best.pt holds). */
  best: ValidMetrics | null;
  /** The last validation. */
  last: ValidMetrics | null;
  validations: number;
  /** Epochs finished (the last `train` record's epoch). */
  epochs: number;
  updates: number;
  /** Why training ended: early_stop (patience), max_update, max_epoch, or null when it did not end. */
  stopReason: 'early_stop' | 'max_update' | 'max_epoch' | null;
  /** Number of fairseq-train launches (1 + resumes). */
  attempts: number;
  /** Our wall-clock seconds over all launches. */
  wallSeconds: number;
  /** The parameter count fairseq printed. */
  fairseqParams: number | null;
}

/** Summary of run.jsonl's records (every launch of the run, in order). */
export function summarizeRun(records: readonly RunRecord[]): RunSummary {
  let best: ValidMetrics | null = null;
  let last: ValidMetrics | null = null;
  let validations = 0;
  let epochs = 0;
  let updates = 0;
  let stopReason: RunSummary['stopReason'] = null;
  let attempts = 0;
  let wallSeconds = 0;
  let fairseqParams: number | null = null;
  for (const r of records) {
    switch (r.event) {
      case 'valid': {
        const v = validMetrics(r);
        validations++;
        last = v;
        if (!best || v.loss < best.loss) best = v;
        updates = Math.max(updates, v.updates || 0);
        break;
      }
      case 'train':
        epochs = Math.max(epochs, Number(r.epoch) || 0);
        updates = Math.max(updates, Number(r.train_num_updates) || 0);
        break;
      case 'train_inner':
        updates = Math.max(updates, Number(r.num_updates) || 0);
        break;
      case 'checkpoint_loaded':
        // fairseq resumed from a save at the end of epoch - 1 (or inside epoch): at least that much was done
        epochs = Math.max(epochs, (Number(r.epoch) || 1) - 1);
        updates = Math.max(updates, Number(r.updates) || 0);
        break;
      case 'early_stop':
        stopReason = 'early_stop';
        break;
      case 'stop':
        stopReason = /max_update/.test(String(r.reason)) ? 'max_update' : stopReason;
        break;
      case 'done':
        if (stopReason === null) stopReason = 'max_epoch';
        break;
      case 'start':
        attempts++;
        stopReason = null;
        break;
      case 'end':
        wallSeconds += Number(r.seconds) || 0;
        break;
      case 'params':
        fairseqParams = Number(r.total);
        break;
    }
  }
  return { best, last, validations, epochs, updates, stopReason, attempts, wallSeconds, fairseqParams };
}

/** The Python error line in the tail of a failed run's output ('ValueError: ...'), if there is one. */
export function lastPythonError(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (/^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(: .*)?$/.test(l)) return l;
    const m = LINE.exec(l);
    if (m && (m[2] === 'ERROR' || m[2] === 'CRITICAL')) return m[4];
  }
  return undefined;
}
