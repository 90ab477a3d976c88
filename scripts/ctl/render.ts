import Table from 'cli-table3';
import { forTerminal } from '@app/audit';

export type Cell = string | number | boolean | null | undefined;

/** A plain table (no colours, so it reads the same in a pipe); cells escaped, as stored text may hold control characters. */
export function table(head: string[], rows: Cell[][]): string {
  const rendered = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const row of rows) rendered.push(row.map((cell) => forTerminal(cell === null || cell === undefined ? '—' : String(cell))));
  return rendered.toString();
}

/** `key  value` lines for one record. */
export function fields(rows: [string, Cell][]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${forTerminal(value === null || value === undefined ? '—' : String(value))}`).join('\n');
}

/**
 * A time in the local time zone (or `timeZone`), to the second, with its offset from UTC: what an
 * operator reads at a glance, and still one instant when pasted into a ticket read in another zone.
 */
export function localTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', { ...WRITTEN, timeZone }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  // `GMT+05:30`, or a bare `GMT` at UTC.
  const offset = part('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${offset}`;
}

const WRITTEN: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'longOffset',
};

/** Milliseconds as a short age: 850ms, 12s, 4m 05s, 2h 10m. */
export function age(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
