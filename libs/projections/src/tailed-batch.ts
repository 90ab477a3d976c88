import { parseLogEntry } from '@app/event-store';
import { MissionEvent } from '@app/mission';
import { ProjectionBatch } from './projection';

/**
 * A batch as the log tail read it, its events parsed when a projection first asks for them: a
 * projection with nothing to do (a webhook outbox without subscriptions) only moves its checkpoint,
 * and the intake does not parse the whole log once more for it.
 */
export class TailedBatch implements ProjectionBatch {
  private parsed: MissionEvent[] | undefined;

  constructor(
    readonly stream: string,
    readonly after: string,
    private readonly rawEntries: readonly (readonly [string, string[]])[],
  ) {}

  get lastId(): string {
    return this.rawEntries[this.rawEntries.length - 1][0];
  }

  get entries(): number {
    return this.rawEntries.length;
  }

  get events(): MissionEvent[] {
    this.parsed ??= this.rawEntries.map(([, fields]) => parseLogEntry(fields));
    return this.parsed;
  }
}
