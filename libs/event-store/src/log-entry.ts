import { jsonTextNestsDeeperThan, MAX_BODY_DEPTH, MissionEvent } from '@app/mission';
import { UnreadableStoredDataError } from './unreadable-stored-data-error';
import { upcast } from './upcast';

/**
 * Why a stored event's JSON cannot be replayed for how deeply it nests, or null when it nests no
 * deeper than MAX_BODY_DEPTH: the limit of the intake's bodies, which `replay import` holds each
 * line to. Told from the text: folded, JSON.stringify or any recursive walk of an event nested
 * thousands deep overflows the stack, and one written into the log by hand may nest so.
 */
export function storedDepthProblem(json: string): string | null {
  return jsonTextNestsDeeperThan(json, MAX_BODY_DEPTH) ? `the stored event nests deeper than ${MAX_BODY_DEPTH} levels, which no service writes` : null;
}

/** A log entry whose event cannot be replayed: what is known of it, and why. */
export interface UnreadableLogEntry {
  readonly unreadable: true;
  readonly logId: string;
  readonly missionId: string;
  /** Its version, when the stored JSON has one; read through a mission's event list, else the one its place there names. */
  readonly version?: number;
  /** Its time, when the stored JSON has one. */
  readonly at?: string;
  /** One line: why it cannot be read (see eventProblem). */
  readonly reason: string;
}

export type LogEntryRead = MissionEvent | UnreadableLogEntry;

export function isUnreadable(entry: LogEntryRead): entry is UnreadableLogEntry {
  return 'unreadable' in entry;
}

/** A log entry's fields are [m, missionId, e, eventJson]: its event, upcast, or why it cannot be read. */
export function readLogEntry(logId: string, fields: readonly string[]): LogEntryRead {
  const missionId = fields[fields.indexOf('m') + 1] ?? '';
  const json = fields[fields.indexOf('e') + 1];
  let stored: unknown;
  try {
    stored = JSON.parse(json ?? '');
  } catch {
    return { unreadable: true, logId, missionId, reason: 'the stored event is not valid JSON' };
  }
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) {
    return { unreadable: true, logId, missionId, reason: 'the stored event is not a JSON object' };
  }
  const record = stored as Record<string, unknown>;
  let reason = storedDepthProblem(json ?? '');
  if (reason === null) {
    try {
      return upcast(record);
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  return {
    unreadable: true,
    logId,
    missionId,
    ...(Number.isInteger(record.version) ? { version: record.version as number } : {}),
    ...(typeof record.at === 'string' ? { at: record.at } : {}),
    reason,
  };
}

/** How an unreadable entry is named, e.g. `its event v7 (1717171717171-0) cannot be read: …`. */
export function describeUnreadable(entry: UnreadableLogEntry): string {
  return `its event ${entry.version !== undefined ? `v${entry.version} ` : ''}(${entry.logId}) cannot be read: ${entry.reason}`;
}

/** The entry's event, or UnreadableStoredDataError naming it and its mission. */
export function parseLogEntry(fields: readonly string[], logId = '?'): MissionEvent {
  const entry = readLogEntry(logId, fields);
  if (isUnreadable(entry)) throw new UnreadableStoredDataError(entry.missionId, describeUnreadable(entry));
  return entry;
}
