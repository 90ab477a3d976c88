import { applyDecorators, BadRequestException, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { AGENT_ID_PATTERN } from '@app/agents';
import { MISSION_ID_PATTERN, SUBJECT_ID_PATTERN } from '@app/mission';
import { DELIVERY_ID_PATTERN, WEBHOOK_ID_PATTERN } from '@app/webhooks';

export type IdKind = 'mission' | 'agent' | 'webhook' | 'delivery' | 'schedule' | 'subject';

const KINDS: Record<IdKind, { pattern: RegExp; source: string; shape: string; example: string; what: string; param: string }> = {
  mission: {
    pattern: new RegExp(MISSION_ID_PATTERN),
    source: MISSION_ID_PATTERN,
    shape: 'a lowercase UUID',
    example: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e',
    what: 'a mission',
    param: 'id',
  },
  agent: {
    pattern: new RegExp(AGENT_ID_PATTERN),
    source: AGENT_ID_PATTERN,
    shape: '2 to 64 lowercase letters, digits or dashes',
    example: 'agent-lena',
    what: 'an agent',
    param: 'id',
  },
  webhook: {
    pattern: new RegExp(WEBHOOK_ID_PATTERN),
    source: WEBHOOK_ID_PATTERN,
    shape: 'wh_ and 24 lowercase hex digits',
    example: 'wh_5f0c2a9e41b7d3c86e19a0f4',
    what: 'a webhook subscription',
    param: 'id',
  },
  delivery: {
    pattern: new RegExp(DELIVERY_ID_PATTERN),
    source: DELIVERY_ID_PATTERN,
    shape: 'msg_ and 32 lowercase hex digits',
    example: 'msg_3b9d0c1e7a2f48d6b5e0a9c4f1d27e83',
    what: 'a webhook delivery',
    param: 'deliveryId',
  },
  schedule: {
    pattern: new RegExp(MISSION_ID_PATTERN),
    source: MISSION_ID_PATTERN,
    shape: 'a lowercase UUID',
    example: '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b',
    what: 'a schedule',
    param: 'id',
  },
  subject: {
    pattern: SUBJECT_ID_PATTERN,
    source: SUBJECT_ID_PATTERN.source,
    shape: 'a letter or digit, then up to 127 letters, digits or . _ : - (no @: not an e-mail address)',
    example: 'guest:4711',
    what: 'a data subject',
    param: 'subjectId',
  },
};

/** The 400 response's description for a malformed id of this kind. */
export function badIdDescription(kind: IdKind): string {
  return `The ${KINDS[kind].param} is not ${KINDS[kind].what} id (\`${idProblem(kind)}\`).`;
}

export function idProblem(kind: IdKind): string {
  return `${KINDS[kind].param} must be ${KINDS[kind].what} id: ${KINDS[kind].shape}`;
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
  const { source, shape, example, what, param } = KINDS[kind];
  return applyDecorators(
    ApiParam({ name: param, description: `The id of ${what}: ${shape}; anything else is a 400.`, schema: { type: 'string', pattern: source, example } }),
  );
}
