import { isUnreadable, readLogEntry, UnreadableLogEntry } from '@app/event-store';
import { MissionEvent } from '@app/mission';
import { ProjectionBatch } from './projection';

/**
 * A batch as the log tail read it, its events parsed when a projection first asks for them: a
 * projection with nothing to do (a webhook outbox without subscriptions) only moves its checkpoint,
 * and the intake does not parse the whole log once more for it.
 */
export class TailedBatch implements ProjectionBatch {
  private parsed: { events: MissionEvent[]; unreadable: UnreadableLogEntry[] } | undefined;

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
    return this.parse().events;
  }

  /** Only those met: a batch whose events were never asked for is not parsed for them. */
  get unreadable(): UnreadableLogEntry[] {
    return this.parsed?.unreadable ?? [];
  }

  private parse(): { events: MissionEvent[]; unreadable: UnreadableLogEntry[] } {
    if (this.parsed) return this.parsed;
    const parsed: { events: MissionEvent[]; unreadable: UnreadableLogEntry[] } = { events: [], unreadable: [] };
    for (const [logId, fields] of this.rawEntries) {
      const entry = readLogEntry(logId, fields);
      if (isUnreadable(entry)) parsed.unreadable.push(entry);
      else parsed.events.push(entry);
    }
    return (this.parsed = parsed);
  }
}
