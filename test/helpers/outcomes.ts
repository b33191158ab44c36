import type { Rng } from '../../ts/common/rng.js';
import type { RunOutcomes } from '../../ts/evaluate/uncertainty.js';

/**
 * Per-example detection outcomes of one made-up run: n examples, every other one an attack; each
 * detected with probability p (attacks) or q (non-attacks); a detected attack's effectiveness and a
 * false alarm's overhead drawn by the given functions (called in example order, attacks then the
 * rest, so a seeded Rng gives the same run every time); customers assigned round-robin.
 */
export function drawRun(
  rng: Rng,
  n: number,
  p: number,
  q: number,
  o: { customers: number; effectiveness: () => number; overhead: () => number },
): RunOutcomes {
  const label = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const detected = label.map((y) => (rng.float() < (y ? p : q) ? 1 : 0));
  return {
    index: label.map((_, i) => i),
    label,
    detected,
    effectiveness: detected.map((d, i) => (label[i] ? d * o.effectiveness() : 0)),
    overhead: detected.map((d, i) => (label[i] ? 0 : d * o.overhead())),
    customer: label.map((_, i) => i % o.customers),
  };
}
