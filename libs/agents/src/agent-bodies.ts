import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsCleanText, MULTI_LINE, Omittable, SINGLE_LINE, KeptInPlainText } from '@app/mission';
import { AGENT_STATUSES, AgentStatus } from './agent';

/** What an agent's id may be: in POST /api/agents, in a path, and in fixtures/agents.json. */
export const AGENT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,63}$';

const SKILL = /^[a-z][a-z0-9_]{0,63}$/;
/** The limits of a profile, for the validators and the OpenAPI schemas alike. */
const LIMITS = { skills: 30, nameLength: 120, promptLength: 10_000, capacity: { min: 1, max: 1000 }, credits: 1_000_000 } as const;
const SKILL_MESSAGE = 'each skill must be snake_case (a-z, 0-9, _), at most 64 characters';
/** A system prompt is multi-line text (tab and line feed allowed) that must say something. */
const PROMPT_TEXT = { ...MULTI_LINE, requireVisible: true };

/** The rules of each profile field, the same whether an agent is registered or changed. */
const NameRules = () => applyDecorators(IsString(), MinLength(1), MaxLength(LIMITS.nameLength), IsCleanText(SINGLE_LINE));
// A skill named twice would be stored and shown twice, while it counts once in assignment.
const SkillsRules = () =>
  applyDecorators(
    IsArray(),
    // class-validator's own words read "skills must contain at least 1 elements".
    ArrayMinSize(1, { message: 'skills must name at least one skill' }),
    ArrayMaxSize(LIMITS.skills, { message: `skills must name at most ${LIMITS.skills} skills` }),
    IsString({ each: true }),
    Matches(SKILL, { each: true, message: SKILL_MESSAGE }),
    ArrayUnique({ message: 'skills must not name a skill twice' }),
  );
const CapacityRules = () => applyDecorators(IsInt(), Min(LIMITS.capacity.min), Max(LIMITS.capacity.max));
const SystemPromptRules = () => applyDecorators(IsString(), MinLength(1), MaxLength(LIMITS.promptLength), IsCleanText(PROMPT_TEXT));

/**
 * The same rules as the OpenAPI document states them, so a client that checks a body against the
 * document is not refused for a limit it could not see (request-schema-limits.spec.ts).
 */
const NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: LIMITS.nameLength } as const;
const SKILLS_SCHEMA = {
  type: 'array',
  items: { type: 'string', pattern: SKILL.source },
  minItems: 1,
  maxItems: LIMITS.skills,
  uniqueItems: true,
  description: `1 to ${LIMITS.skills} different skills, each snake_case (a-z, 0-9, _, starting with a letter), at most 64 characters`,
} as const;
const CAPACITY_SCHEMA = { type: 'integer', minimum: LIMITS.capacity.min, maximum: LIMITS.capacity.max, description: 'Missions it may hold at once' } as const;
const PROMPT_SCHEMA = { type: 'string', minLength: 1, maxLength: LIMITS.promptLength } as const;

/** An agent as POST /api/agents registers it, and as fixtures/agents.json lists it (readAgentProfiles). */
export class RegisterAgentBody {
  @ApiProperty({
    example: 'agent-mila',
    pattern: AGENT_ID_PATTERN,
    minLength: 2,
    maxLength: 64,
    description: 'Stable id: 2 to 64 lowercase letters, digits and dashes, not starting with a dash',
  })
  @IsString()
  @Matches(new RegExp(AGENT_ID_PATTERN), { message: 'id must be 2 to 64 lowercase letters, digits or dashes' })
  id: string;

  @ApiProperty({ ...NAME_SCHEMA, example: 'Mila – Night Desk' })
  @NameRules()
  name: string;

  @ApiProperty({ ...SKILLS_SCHEMA, example: ['guest_communication', 'german'] })
  @SkillsRules()
  skills: string[];

  @ApiProperty({ ...CAPACITY_SCHEMA, example: 4 })
  @CapacityRules()
  capacity: number;

  @ApiProperty({ type: 'number', minimum: 0, maximum: LIMITS.credits, example: 100 })
  @IsNumber()
  @Min(0)
  @Max(LIMITS.credits)
  credits: number;

  @ApiProperty({ ...NAME_SCHEMA, example: 'gpt-4o-mini' })
  @NameRules()
  model: string;

  @ApiProperty({ ...PROMPT_SCHEMA, example: 'You are Mila, night desk agent of Hotel Seeblick. Answer only with the JSON object asked for.' })
  @SystemPromptRules()
  systemPrompt: string;

  @ApiPropertyOptional({ enum: AGENT_STATUSES, default: 'online' })
  @Omittable()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;
}

export class UpdateAgentBody {
  @ApiPropertyOptional(NAME_SCHEMA)
  @Omittable()
  @NameRules()
  name?: string;

  @ApiPropertyOptional(SKILLS_SCHEMA)
  @Omittable()
  @SkillsRules()
  skills?: string[];

  @ApiPropertyOptional(CAPACITY_SCHEMA)
  @Omittable()
  @CapacityRules()
  capacity?: number;

  @ApiPropertyOptional(NAME_SCHEMA)
  @Omittable()
  @NameRules()
  model?: string;

  @ApiPropertyOptional(PROMPT_SCHEMA)
  @Omittable()
  @SystemPromptRules()
  systemPrompt?: string;

  @ApiPropertyOptional({ enum: AGENT_STATUSES, description: 'paused/offline agents get no new missions; running ones finish' })
  @Omittable()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;

  @KeptInPlainText({
    description: 'Why the status changes (kept in plain in the AgentStatusChanged event, so without an `@`); only with `status`, else a 400',
  })
  reason?: string;
}
