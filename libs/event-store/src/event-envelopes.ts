import { v7 as uuidv7 } from 'uuid';
import { CURRENT_SCHEMA_VERSION, MissionEvent, NewMissionEvent } from '@app/mission';

/** What every event of one append shares in its envelope. */
export interface EnvelopeContext {
  actor: string;
  /** ISO instant of the append. */
  at: string;
  correlationId: string;
  causationId: string;
}

/**
 * The envelopes of `events` appended to a mission at `expectedVersion`, as MissionStore writes them
 * and the bench's synthetic log too: the key order is part of what each event's hash covers, so it
 * is written here only.
 */
export function envelopesOf(missionId: string, expectedVersion: number, events: readonly NewMissionEvent[], context: EnvelopeContext): MissionEvent[] {
  return events.map(
    (event, index) =>
      ({
        eventId: uuidv7(),
        type: event.type,
        missionId,
        version: expectedVersion + index + 1,
        at: context.at,
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.causationId,
        schemaVersion: CURRENT_SCHEMA_VERSION,
        data: event.data,
      }) as MissionEvent,
  );
}

/**
 * An event as the log stores it: its envelope's JSON with the SHA-1 of the mission's previous
 * stored event (`prevHash`) and of the log's (`logPrevHash`) added last. append-mission-events.lua
 * is the writer; this is the same line for what must match it byte for byte (the synthetic log,
 * whose chains verify must find whole).
 */
export function storedEventLine(envelope: MissionEvent, prevHash: string, logPrevHash: string): string {
  return `${JSON.stringify(envelope).slice(0, -1)},"prevHash":"${prevHash}","logPrevHash":"${logPrevHash}"}`;
}
