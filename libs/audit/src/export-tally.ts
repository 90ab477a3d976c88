import { Readable } from 'node:stream';
import { KeyLayout } from '@app/event-store';
import { isStorableMissionId, jsonTextNestsDeeperThan, MAX_BODY_DEPTH } from '@app/mission';
import { createdSubjects, erasedSubject } from './event-subjects';
import { ExportChains } from './export-chains';
import { describeExportFilter, ExportEndLine, filtersEvents, isExportEndLine, parseExportEndLine } from './export-end-line';
import { exportFileLines } from './export-file-lines';
import { ImportRefusedError } from './import-refused-error';
import { parseStored, StoredObject } from './stored-log';
import { isSubjectKeyLine, parseSubjectKeyLine, SubjectKeyLine } from './subject-key-lines';

/** Why an export without the guests' keys is refused, and what to import instead. */
const WITHOUT_KEYS =
  "it holds none of the guests' data keys, so no one can read their data from it (every personal field would read [erased], " +
  "and unfinished missions would run on that): an extract without the guests' keys and not a backup to restore; " +
  'make a backup with replay export without --no-keys';

/**
 * What an import has read of an export, held against the export's end line: whether the file is
 * whole (not cut short at a line boundary, nothing appended after the end), made with the
 * partitions the import writes to, and a backup rather than an extract (no filter, the guests'
 * keys there).
 */
export class ExportTally {
  private events = 0;
  private subjectKeys = 0;
  private end: { line: ExportEndLine; lineNumber: number } | undefined;
  /** Why a line that says it is the end is none: refused at check, like any file that is not whole. */
  private malformedEnd: string | undefined;
  private firstAfterEnd: number | undefined;
  private lastLineNumber = 0;
  /**
   * The subjects the missions' creates name, and those a SubjectErased names: an export with no key
   * line although some subject was never erased was made with --no-keys, which its end line did
   * not record before end lines did.
   */
  private readonly namedSubjects = new Set<string>();
  private readonly erasedSubjects = new Set<string>();

  /** The partitions' heads the end line records, if it does (see ExportEndLine). */
  get heads(): readonly string[] | undefined {
    return this.end?.line.heads;
  }

  /** Counts one parsed, non-empty line (a line that names no kind is an event). */
  add(stored: StoredObject, lineNumber: number): void {
    this.lastLineNumber = lineNumber;
    if (this.end) {
      this.firstAfterEnd ??= lineNumber;
      return;
    }
    if (isExportEndLine(stored)) {
      try {
        this.end = { line: parseExportEndLine(stored, lineNumber), lineNumber };
      } catch (error) {
        this.malformedEnd ??= error instanceof Error ? error.message : String(error);
      }
    } else if (isSubjectKeyLine(stored)) this.subjectKeys++;
    else {
      this.events++;
      for (const subject of createdSubjects(stored)) this.namedSubjects.add(subject);
      const erased = erasedSubject(stored);
      if (erased !== undefined) this.erasedSubjects.add(erased);
    }
  }

  /**
   * Throws ImportRefusedError unless the file ended with an end line whose counts match, that
   * records no filter (a filtered export holds only part of the hash chains, which would break
   * after it, with a message that names no filter; one made with --no-keys holds none of the
   * guests' keys) and whose partitions are `partitions`, and unless it holds the keys of the
   * subjects it names that were not erased, if any (an export made with --no-keys before end
   * lines recorded that). `acceptMissingEnd`: a file without an end line (an export made before
   * exports wrote one) is taken as it is, but for those keys.
   */
  check(partitions: number, { acceptMissingEnd = false }: { acceptMissingEnd?: boolean } = {}): void {
    const { end } = this;
    if (this.malformedEnd) throw new ImportRefusedError(this.malformedEnd);
    if (end) this.checkEnd(end.line, end.lineNumber, partitions);
    else if (!acceptMissingEnd) {
      throw new ImportRefusedError(
        `the export ends (line ${this.lastLineNumber}) without its end line: the file was cut short, or written before exports had one`,
        true,
      );
    }
    this.checkGuestKeys();
  }

  private checkEnd(end: ExportEndLine, endLineNumber: number, partitions: number): void {
    if (this.firstAfterEnd !== undefined) {
      throw new ImportRefusedError(`line ${this.firstAfterEnd} follows the export's end line (line ${endLineNumber}): something was appended to the file`);
    }
    if (end.events !== this.events || end.subjectKeys !== this.subjectKeys) {
      throw new ImportRefusedError(
        `the export's end line counts ${end.events} events and ${end.subjectKeys} subject keys, the file holds ` +
          `${this.events} and ${this.subjectKeys}: lines were lost or added`,
      );
    }
    const { filter } = end;
    if (filter && filtersEvents(filter)) {
      const options = ['--from', '--to', '--type', '--mission', ...(filter.keys === false ? ['--no-keys'] : [])];
      throw new ImportRefusedError(
        `the export is filtered (${describeExportFilter(filter)}): it holds only the events that matched, so only part of ` +
          `the hash chains, an extract to read and not a backup to restore; import a whole export (replay export without ${options.slice(0, -1).join(', ')} or ${options[options.length - 1]})`,
      );
    }
    if (filter?.keys === false) throw new ImportRefusedError(`the export was made with --no-keys: ${WITHOUT_KEYS}`);
    if (end.partitions !== partitions) {
      throw new ImportRefusedError(
        `the export was read from ${end.partitions} log partitions and this import writes ${partitions} ` +
          `(each partition has its own hash chain); import with LOG_PARTITIONS=${end.partitions}`,
      );
    }
  }

  /** An export that names subjects not erased holds some of their keys: with none, it was made with --no-keys (before end lines said so). */
  private checkGuestKeys(): void {
    if (this.subjectKeys > 0) return;
    const notErased = [...this.namedSubjects].filter((subject) => !this.erasedSubjects.has(subject)).length;
    if (notErased === 0) return;
    throw new ImportRefusedError(
      `the export names ${notErased} data subject${notErased === 1 ? '' : 's'} that no SubjectErased erased and holds no subject key line ` +
        `(an export made with --no-keys before end lines recorded that): ${WITHOUT_KEYS}`,
    );
  }
}

/** An export file read once ahead of its import. */
export interface ExportScan {
  /** Lines in the file, empty ones included: the import's progress total. */
  lines: number;
  subjectKeys: SubjectKeyLine[];
  tally: ExportTally;
  /** The file's hash chains under the layout the import writes: its `check()` refuses a broken one. */
  chains: ExportChains;
}

/**
 * Refuses an event line whose mission id could not be stored under its own keys (see
 * STORABLE_MISSION_ID_PATTERN): the import would write it into another mission's keys, or stop
 * half way on a key of another type, leaving a partial prefix. A line without a mission id is
 * the chain check's to name.
 */
function checkMissionId(stored: StoredObject, lineNumber: number): void {
  const { missionId } = stored;
  if (typeof missionId !== 'string' || missionId === '' || isStorableMissionId(missionId)) return;
  throw new Error(
    `line ${lineNumber} names the mission ${JSON.stringify(missionId)}, which is no mission id ` +
      '(letters, digits, ".", "_" and "-", at most 128: no ":", braces or spaces)',
  );
}

/**
 * Reads an export ahead of its import into `keys`' layout, so that what the import would refuse
 * (keys it cannot unwrap, a file that is not whole, broken hash chains) is refused before it writes
 * anything: an export lists its keys and its end after the events, and a chain may break on its
 * last line. One pass, each line parsed and each event line hashed once; the caller checks keys,
 * then the tally, then the chains (a file read from another partition count breaks the chains of
 * this layout, which the tally names as the cause).
 */
export async function scanExport(input: Readable, keys: KeyLayout): Promise<ExportScan> {
  const scan: ExportScan = { lines: 0, subjectKeys: [], tally: new ExportTally(), chains: new ExportChains(keys) };
  let last: { lineNumber: number; json: boolean } | undefined;
  // A file that is no export at all (a README) fails on its first line: that one is named, not the last.
  const notJson: { first?: number; count: number } = { count: 0 };
  const lines = exportFileLines(input);
  for await (const line of lines) {
    const lineNumber = ++scan.lines;
    if (line.trim() === '') continue;
    // Before it is parsed: the import's fold and JSON.stringify of the state would overflow the stack on it.
    if (jsonTextNestsDeeperThan(line, MAX_BODY_DEPTH))
      throw new Error(`line ${lineNumber} nests deeper than ${MAX_BODY_DEPTH} levels, which no stored event does`);
    const parsed = parseStored(line);
    last = { lineNumber, json: parsed !== null };
    if (!parsed) {
      notJson.first ??= lineNumber;
      notJson.count++;
    }
    const stored = parsed ?? {};
    if (isSubjectKeyLine(stored)) scan.subjectKeys.push(parseSubjectKeyLine(stored, lineNumber));
    else if (!isExportEndLine(stored)) {
      checkMissionId(stored, lineNumber);
      scan.chains.add(line, lineNumber, parsed);
    }
    scan.tally.add(stored, lineNumber);
  }
  // A last line that is no JSON shows a file that is no export at all (or one broken at its end): said
  // as what it is, not as an export without its end line, and before the import writes anything.
  if (last && !last.json) {
    // The only line that is no JSON, and the last, without its line feed: a file cut short
    // (an export interrupted, a disk full), not one that holds something else.
    if (notJson.count === 1 && lines.endsMidLine) {
      throw new Error(`line ${last.lineNumber} is the file's last and ends mid-line: the file was cut short (an interrupted export or a full disk)`);
    }
    const others = notJson.count > 1 ? ` (the first of ${notJson.count} such lines, the last being line ${last.lineNumber})` : '';
    throw new Error(`line ${notJson.first ?? last.lineNumber} is not a JSON object${others}`);
  }
  return scan;
}
