import { open } from 'node:fs/promises';
import { parseStored, StoredObject } from './stored-log';

/**
 * The `kind` of an export's last line: what the export wrote, so an import can tell a whole file
 * from one cut short at a line boundary (every event's hash chain still holds in such a prefix, so
 * `verify` alone cannot).
 */
export const EXPORT_END_LINE = 'export-end';

/**
 * The filters an export was made with (`replay export --from/--to/--type/--mission/--no-keys`), as
 * its end line records them: instants as ISO strings, `keys: false` for `--no-keys`. Such an
 * export holds only the events that matched, so only part of the log's hash chains, or none of the
 * guests' data keys, so no one can read their data from it: an extract to read, not a backup to
 * import.
 */
export interface ExportEndFilter {
  from?: string;
  to?: string;
  type?: string;
  mission?: string;
  /**
   * false: the subjects' wrapped data keys were left out (`--no-keys`). Recorded among the filters
   * so that an import older than this mark refuses the file too (a filter it does not know).
   */
  keys?: false;
}

/** The filters of events an end line may record, in the order it writes them (`keys` after them). */
const EVENT_FILTER_FIELDS = ['from', 'to', 'type', 'mission'] as const;

/** An export's last line. */
export interface ExportEndLine {
  kind: typeof EXPORT_END_LINE;
  /** Event lines the export wrote. */
  events: number;
  /** Subject-key lines the export wrote. */
  subjectKeys: number;
  /** LOG_PARTITIONS of the log it was read from: each partition has its own hash chain. */
  partitions: number;
  /**
   * Each partition's head as exported: the SHA-1 of its last event line ('' for none). A line's
   * hash is held by the next line's links, so the last line of each partition was held by nothing
   * in the file (an edit of it imported and verified). Absent in exports made before end lines had it.
   */
  heads?: string[];
  /**
   * The filters the export was made with; absent for a whole export, and in the end lines of
   * exports made before they recorded it (those cannot be told from a whole one but by their chains).
   */
  filter?: ExportEndFilter;
}

/** The filters as the command line names them (`--type MissionEvaluated --from 2026-12-01T00:00:00.000Z --no-keys`). */
export function describeExportFilter(filter: ExportEndFilter): string {
  return [
    ...EVENT_FILTER_FIELDS.filter((field) => filter[field] !== undefined).map((field) => `--${field} ${filter[field]}`),
    ...(filter.keys === false ? ['--no-keys'] : []),
  ].join(' ');
}

/** Whether the filters leave events out (any but `keys`): the file then holds only part of the hash chains. */
export function filtersEvents(filter: ExportEndFilter): boolean {
  return EVENT_FILTER_FIELDS.some((field) => filter[field] !== undefined);
}

/** Whether a parsed export line is the end line. */
export function isExportEndLine(stored: StoredObject): boolean {
  return stored.kind === EXPORT_END_LINE;
}

/** The line's record, or an error naming the line when a count is not a whole number. */
export function parseExportEndLine(stored: StoredObject, lineNumber: number): ExportEndLine {
  const { events, subjectKeys, partitions, filter, heads } = stored;
  const count = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
  if (!count(events, 0) || !count(subjectKeys, 0) || !count(partitions, 1)) {
    throw new Error(`line ${lineNumber} is an export's end without events, subjectKeys (whole numbers) and partitions (1 or more)`);
  }
  if (heads !== undefined && !(Array.isArray(heads) && heads.length === partitions && heads.every((head) => typeof head === 'string' && HEAD.test(head)))) {
    throw new Error(`line ${lineNumber} is an export's end whose heads are not one SHA-1 (or '' for an empty partition) per partition`);
  }
  const recorded = heads === undefined ? {} : { heads: heads as string[] };
  if (filter === undefined) return { kind: EXPORT_END_LINE, events, subjectKeys, partitions, ...recorded };
  if (!isEndFilter(filter)) {
    throw new Error(
      `line ${lineNumber} is an export's end whose filter is not one or more of ${EVENT_FILTER_FIELDS.join(', ')} (each a non-empty string) or keys (false)`,
    );
  }
  return { kind: EXPORT_END_LINE, events, subjectKeys, partitions, ...recorded, filter };
}

/** A partition's head in an end line: a SHA-1 in hex, or '' for a partition without events. */
const HEAD = /^(?:[0-9a-f]{40})?$/;

/**
 * Why the heads of the file's partitions (the SHA-1 of each one's last event line, '' for none)
 * are not those its end line records, naming the first that differs; undefined when they are, or
 * when the end line records none (an export made before end lines did).
 */
export function headsProblem(recorded: readonly string[] | undefined, found: readonly { hash: string; lineNumber: number }[]): string | undefined {
  if (!recorded) return undefined;
  const partition = recorded.findIndex((head, index) => (found[index]?.hash ?? '') !== head);
  if (partition < 0) return undefined;
  const last = found[partition];
  return (
    `${last?.hash ? `line ${last.lineNumber}, the last event of log partition ${partition},` : `log partition ${partition}`} is not the head the export's ` +
    `end line records for it: the file is not the log as exported (its last event edited, removed or moved)`
  );
}

function isEndFilter(value: unknown): value is ExportEndFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  const valid = ([field, recorded]: [string, unknown]) =>
    field === 'keys' ? recorded === false : (EVENT_FILTER_FIELDS as readonly string[]).includes(field) && typeof recorded === 'string' && recorded !== '';
  return entries.length > 0 && entries.every(valid);
}

/** Bytes read from a file's end to find its end line: an end line is short, so a last line longer than this is none. */
const END_LINE_TAIL_BYTES = 4_096;

/**
 * The end line of the export file at `path`, read from its last bytes without reading the rest;
 * undefined when its last non-empty line is no well-formed end line (the import's tally then says
 * why). What an import reads ahead of choosing its layout: the partition count the export was
 * read from.
 */
export async function readExportEndLine(path: string): Promise<ExportEndLine | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const length = Math.min(size, END_LINE_TAIL_BYTES);
    const tail = Buffer.alloc(length);
    await file.read(tail, 0, length, size - length);
    const lines = tail.toString('utf8').trimEnd().split('\n');
    const stored = parseStored(lines[lines.length - 1]);
    if (!stored || !isExportEndLine(stored)) return undefined;
    try {
      return parseExportEndLine(stored, 0);
    } catch {
      return undefined;
    }
  } finally {
    await file.close();
  }
}

/** The end line as an export writes it: `filter` only for a filtered export (or one made with --no-keys), with the filters it was made with. */
export function formatExportEndLine({ events, subjectKeys, partitions, heads, filter }: Omit<ExportEndLine, 'kind'>): string {
  const recorded: ExportEndFilter = filter
    ? Object.fromEntries(EVENT_FILTER_FIELDS.filter((field) => filter[field] !== undefined).map((field) => [field, filter[field]]))
    : {};
  if (filter?.keys === false) recorded.keys = false;
  const filtered = Object.keys(recorded).length > 0 ? { filter: recorded } : {};
  return `${JSON.stringify({ kind: EXPORT_END_LINE, events, subjectKeys, partitions, ...(heads ? { heads } : {}), ...filtered })}\n`;
}
