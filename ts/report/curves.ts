/**
 * Training and validation curves from a run's run.jsonl (ts/train/run.ts): fairseq's train_inner
 * records give the training loss at fractional epochs (`update` = epochs done, e.g. 1.25), its valid
 * records the validation loss at the end of each epoch. A resumed run repeats records of the epoch it
 * resumed in: the later record of the same position wins. Pure.
 */
import type { RunRecord } from '../train/log.js';
import type { CurvePoint } from './model.js';

export function curvePoints(records: readonly RunRecord[]): CurvePoint[] {
  const train = new Map<number, number>();
  const valid = new Map<number, number>();
  for (const r of records) {
    if (r.event === 'train_inner' && typeof r.loss === 'number' && typeof r.update === 'number')
      train.set(r.update, r.loss);
    else if (r.event === 'valid' && typeof r.valid_loss === 'number' && typeof r.epoch === 'number')
      valid.set(r.epoch, r.valid_loss);
  }
  const pts = (m: Map<number, number>, series: CurvePoint['series']) =>
    [...m].sort((a, b) => a[0] - b[0]).map(([x, loss]) => ({ x, loss, series }));
  return [...pts(train, 'train'), ...pts(valid, 'valid')];
}
