import { open } from 'node:fs/promises';
import { parseStored, StoredObject } from './stored-log';

/**
 * The `kind` of an export's last line: what the export wrote, so an import can tell a whole file
 * from one cut short at a line boundary (every event's hash chain still holds in such a prefix, so
 * `verify` alone cannot).
 */
export const EXPORT_END_LINE = 'export-end';

/** An export's last line. */
export interface ExportEndLine {
  kind: typeof EXPORT_END_LINE;
  /** Event lines the export wrote. */
  events: number;
  /** Subject-key lines the export wrote. */
  subjectKeys: number;
  /** LOG_PARTITIONS of the log it was read from: each partition has its own hash chain. */
  partitions: number;
}

/** Whether a parsed export line is the end line. */
export function isExportEndLine(stored: StoredObject): boolean {
  return stored.kind === EXPORT_END_LINE;
}

/** The line's record, or an error naming the line when a count is not a whole number. */
export function parseExportEndLine(stored: StoredObject, lineNumber: number): ExportEndLine {
  const { events, subjectKeys, partitions } = stored;
  const count = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
  if (!count(events, 0) || !count(subjectKeys, 0) || !count(partitions, 1)) {
    throw new Error(`line ${lineNumber} is an export's end without events, subjectKeys (whole numbers) and partitions (1 or more)`);
  }
  return { kind: EXPORT_END_LINE, events, subjectKeys, partitions };
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

/** The end line as an export writes it. */
export function formatExportEndLine({ events, subjectKeys, partitions }: Omit<ExportEndLine, 'kind'>): string {
  return `${JSON.stringify({ kind: EXPORT_END_LINE, events, subjectKeys, partitions })}\n`;
}
