import { Mission, MISSION_TYPES, MissionEvent, MissionType, personalValues, REDACTED_MARKER, withValues } from '@app/mission';

type Output = Record<string, unknown>;

/**
 * The mission as a role that may not read guest data sees it: each personal field (its type's
 * PERSONAL_FIELDS) that holds something reads REDACTED_MARKER, whether it is stored sealed, in
 * plain (a mission from before schema 5) or `[erased]`.
 */
export function redactedMission(mission: Mission): Mission {
  return missionWithPersonalFieldsAs(mission, REDACTED_MARKER);
}

/** The mission with each personal field that holds something reading `marker` (REDACTED_MARKER, UNAVAILABLE_MARKER). */
export function missionWithPersonalFieldsAs(mission: Mission, marker: string): Mission {
  const marked = markedInput(mission, marker);
  const result = marked.result ? { ...marked.result, output: markedOutput(marked.result.output, marker) } : marked.result;
  const originalOutput = marked.review?.originalOutput;
  return {
    ...marked,
    result,
    ...(marked.review && originalOutput ? { review: { ...marked.review, originalOutput: markedOutput(originalOutput, marker) } } : {}),
  };
}

/** The event as a role that may not read guest data sees it (see redactedMission): a create, a result, a reviewer's edit. */
export function redactedEvent(event: MissionEvent): MissionEvent {
  return eventWithPersonalFieldsAs(event, REDACTED_MARKER);
}

/** The event with each personal field that holds something reading `marker` (REDACTED_MARKER, UNAVAILABLE_MARKER). */
export function eventWithPersonalFieldsAs(event: MissionEvent, marker: string): MissionEvent {
  switch (event.type) {
    case 'MissionCreated':
      return { ...event, data: markedInput(event.data, marker) };
    case 'MissionCompleted':
      return { ...event, data: { ...event.data, result: { ...event.data.result, output: markedOutput(event.data.result.output, marker) } } };
    case 'MissionApproved':
      return event.data.output ? { ...event, data: { ...event.data, output: markedOutput(event.data.output, marker) } } : event;
    default:
      return event;
  }
}

function markedInput<T extends { type: MissionType; description: string; subjects?: string[] }>(source: T, marker = REDACTED_MARKER): T {
  // personalValues counts the description of any type once the mission names subjects.
  return withValues(
    source,
    personalValues(source.type, 'input', source).map(({ path }) => ({ path, value: marker })),
  );
}

/** Every output field any type declares personal: an event names no mission type, and missions and events show alike. */
function markedOutput(output: Output, marker = REDACTED_MARKER): Output {
  const present = new Set(MISSION_TYPES.flatMap((type) => personalValues(type, 'output', output).map(({ path }) => path)));
  return withValues(
    output,
    [...present].map((path) => ({ path, value: marker })),
  );
}
