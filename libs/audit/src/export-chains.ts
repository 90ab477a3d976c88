import { KeyLayout } from '@app/event-store';
import { headsProblem } from './export-end-line';
import { ChainBreak, ChainChecker } from './hash-chain';
import { ImportRefusedError } from './import-refused-error';
import { sha1Hex, StoredObject } from './stored-log';

/**
 * The hash chains of an export file, checked ahead of its import as `verify` checks a stored log
 * (ChainChecker, one per log partition): each event line goes to its mission's partition under the
 * layout the import writes, so each checker sees the lines in the order that partition's log will
 * hold them. A line duplicated, dropped, edited or moved breaks a chain, which an import would
 * otherwise store as it is (for `verify` to find afterwards, in a prefix already written).
 * What is held is ChainChecker's: per mission its last event (hash and version), per partition
 * the last line; after the first break nothing more is checked, since one refuses the file.
 */
export class ExportChains {
  private readonly checkers: ChainChecker[];
  private broken: ChainBreak | undefined;
  /** Each partition's last event line so far: its hash, held by no later line, is checked against the end line's heads. */
  private readonly lasts: { hash: string; lineNumber: number }[];

  constructor(private readonly keys: KeyLayout) {
    this.checkers = keys.partitions.map(() => new ChainChecker());
    this.lasts = keys.partitions.map(() => ({ hash: '', lineNumber: 0 }));
  }

  /** Feeds an event line (not a key or end line) of the file, in file order; `stored` is null when it is no JSON object. */
  add(line: string, lineNumber: number, stored: StoredObject | null): void {
    if (this.broken) return;
    const logId = `line ${lineNumber}`;
    // Said as what is wrong with the line: ChainChecker speaks of a stored log entry's fields.
    if (!stored) return void (this.broken = { missionId: '', logId, version: 0, detail: 'it is not a JSON object' });
    if (typeof stored.missionId !== 'string' || !stored.missionId)
      return void (this.broken = { missionId: '', logId, version: 0, detail: 'it names no mission' });
    const partition = this.keys.partitionOf(stored.missionId);
    const hash = sha1Hex(line);
    this.checkers[partition].add({ logId, missionId: stored.missionId, json: line }, hash, stored);
    this.lasts[partition] = { hash, lineNumber };
    this.broken = this.checkers[partition].firstBreak;
  }

  /** Throws ImportRefusedError when the partitions' last lines are not the heads `recorded` (the end line's, when it has them). */
  checkHeads(recorded: readonly string[] | undefined): void {
    const problem = headsProblem(recorded, this.lasts);
    if (problem) throw new ImportRefusedError(problem);
  }

  /** Throws ImportRefusedError naming the first line (and its mission) that breaks a chain. */
  check(): void {
    const broken = this.broken;
    if (!broken) return;
    const mission = broken.missionId ? ` (mission ${broken.missionId} v${broken.version})` : '';
    throw new ImportRefusedError(
      `${broken.logId}${mission} breaks the export's hash chains: ${broken.detail}; the file is not the log as exported ` +
        '(a line edited, duplicated, removed or moved), or an export filtered by --from, --to, --type or --mission, which holds only part of the chains',
    );
  }
}
