/**
 * The paper's Table 7: for each training node that unseen nodes map to, the attacks it received and
 * how many unseen nodes map to it.
 */
import { formatTable } from '../splits/table.js';

export interface Table7Row {
  /** Training node: dataset row (= node id) and address. */
  row: number;
  address: string;
  /** Attacks received (alerts kept by the SPEC §6 filter); null when no alert feed was given. */
  attacks: number | null;
  mappedUnseen: number;
}

/**
 * One row per training node with at least one unseen node mapped to it, most mapped first (ties:
 * more attacks, then lower row).
 */
export function table7(
  trainAddresses: readonly string[],
  mappedTo: ArrayLike<number>,
  attacks: readonly number[] | null,
): Table7Row[] {
  const count = new Array<number>(trainAddresses.length).fill(0);
  for (let i = 0; i < mappedTo.length; i++) count[mappedTo[i]]++;
  const rows: Table7Row[] = [];
  count.forEach((n, r) => {
    if (n > 0) rows.push({ row: r, address: trainAddresses[r], attacks: attacks ? attacks[r] : null, mappedUnseen: n });
  });
  return rows.sort((a, b) => b.mappedUnseen - a.mappedUnseen || (b.attacks ?? 0) - (a.attacks ?? 0) || a.row - b.row);
}

export function formatTable7(rows: readonly Table7Row[], limit = 20): string {
  if (!rows.length) return '(no unseen nodes)\n';
  const shown = rows.slice(0, limit);
  const text = formatTable(
    ['Training node', 'Total attacks received', 'Mapped unseen nodes'],
    shown.map((r) => [`${r.row} ${r.address}`, r.attacks === null ? '-' : r.attacks, r.mappedUnseen]),
  );
  return rows.length > limit ? text + `(${rows.length - limit} more training nodes in unseen.json)\n` : text;
}
