import { MissionCreateDto } from './mission-create.dto';

/**
 * Bytes (UTF-8) of the mission text that every prompt about the mission carries: the title, the
 * description and the payload as JSON. The executor sends it with every attempt and the judge
 * with every verdict, so it is what a size cap on creates must bound.
 */
export function missionTextBytes(input: Pick<MissionCreateDto, 'title' | 'description' | 'payload'>): number {
  return Buffer.byteLength(input.title) + Buffer.byteLength(input.description) + Buffer.byteLength(JSON.stringify(input.payload));
}

/** Why a create is over the cap (`MAX_MISSION_TEXT_BYTES`), or null: one rule and one wording for every way a mission comes in. */
export function missionTextProblem(input: Pick<MissionCreateDto, 'title' | 'description' | 'payload'>, maxBytes: number): string | null {
  const bytes = missionTextBytes(input);
  return bytes > maxBytes
    ? `the mission text (title, description and payload as JSON) is ${bytes} bytes, over MAX_MISSION_TEXT_BYTES ${maxBytes}: every attempt would send all of it to the LLM`
    : null;
}
