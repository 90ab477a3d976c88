import { forTerminal } from '@app/audit';

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Per column; a column not given is left-aligned. */
  align?: readonly Align[];
  /** A last row set off by a rule of its own: a total. */
  footer?: string[];
}

/**
 * Columns padded by hand, two spaces apart, a rule under the header. Each line's trailing spaces
 * are trimmed, so a left-aligned last column (free text) is not padded. Cells are made safe for a
 * terminal (forTerminal): a cell cannot break its row.
 */
export function formatTable(header: string[], rows: string[][], options: TableOptions = {}): string {
  const safe = (row: string[]) => row.map((cell) => forTerminal(cell));
  const body = rows.map(safe);
  const footer = options.footer && safe(options.footer);
  const measured = footer ? [...body, footer] : body;
  const widths = header.map((title, column) => Math.max(title.length, ...measured.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((value, column) => (options.align?.[column] === 'right' ? value.padStart(widths[column]) : value.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  const rule = line(widths.map((width) => '-'.repeat(width)));
  return [line(header), rule, ...body.map(line), ...(footer ? [rule, line(footer)] : [])].join('\n');
}
