import { applyDecorators, BadRequestException, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

/** What mission-identity issues: UUIDv7, or UUIDv5 for deduplicated creates, in lowercase. */
export const MISSION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
/** What POST /api/agents accepts as an agent's id. */
export const AGENT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,63}$';

export type IdKind = 'mission' | 'agent' | 'schedule';

const KINDS: Record<IdKind, { pattern: RegExp; source: string; shape: string; example: string; what: string }> = {
  mission: {
    pattern: new RegExp(MISSION_ID_PATTERN),
    source: MISSION_ID_PATTERN,
    shape: 'a lowercase UUID',
    example: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e',
    what: 'a mission',
  },
  agent: {
    pattern: new RegExp(AGENT_ID_PATTERN),
    source: AGENT_ID_PATTERN,
    shape: '2 to 64 lowercase letters, digits or dashes',
    example: 'agent-lena',
    what: 'an agent',
  },
  schedule: {
    pattern: new RegExp(MISSION_ID_PATTERN),
    source: MISSION_ID_PATTERN,
    shape: 'a lowercase UUID',
    example: '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b',
    what: 'a schedule',
  },
};

export function idProblem(kind: IdKind): string {
  return `id must be ${KINDS[kind].what} id: ${KINDS[kind].shape}`;
}

/**
 * Checks an `:id` before it reaches Redis, where it becomes part of a key: `<id>:events` named
 * another key of the mission, of another type, and Redis' WRONGTYPE was a 500. Not an id → 400.
 */
export class IdPipe implements PipeTransform<unknown, string> {
  constructor(private readonly kind: IdKind) {}

  transform(value: unknown): string {
    if (typeof value === 'string' && KINDS[this.kind].pattern.test(value)) return value;
    throw new BadRequestException(idProblem(this.kind));
  }
}

/** The OpenAPI description of an `:id` that IdPipe checks. */
export function ApiIdParam(kind: IdKind): MethodDecorator {
  const { source, shape, example } = KINDS[kind];
  return applyDecorators(
    ApiParam({
      name: 'id',
      description: `${kind[0].toUpperCase()}${kind.slice(1)} id: ${shape}; anything else is a 400.`,
      schema: { type: 'string', pattern: source, example },
    }),
  );
}
