/** Plain-text tables for the summaries printed by the dataset commands (Tables 1, 2, 4, 7 of the paper). */

/** Formats a count with thousands separators (1297350 -> 1,297,350); other numbers as given. */
export function fmt(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return String(v);
}

/** Left-aligned first column, right-aligned others, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header.map(String), ...rows.map((r) => r.map(fmt))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
