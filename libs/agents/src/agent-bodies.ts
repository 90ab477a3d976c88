import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsCleanText, IsKeptInPlain, MULTI_LINE, Omittable, SINGLE_LINE } from '@app/mission';
import { AGENT_STATUSES, AgentStatus } from './agent';

/** What an agent's id may be: in POST /api/agents, in a path, and in fixtures/agents.json. */
export const AGENT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,63}$';

const SKILL = /^[a-z][a-z0-9_]{0,63}$/;
const SKILL_MESSAGE = 'each skill must be snake_case (a-z, 0-9, _), at most 64 characters';
/** A system prompt is multi-line text (tab and line feed allowed) that must say something. */
const PROMPT_TEXT = { ...MULTI_LINE, requireVisible: true };

/** The rules of each profile field, the same whether an agent is registered or changed. */
const NameRules = () => applyDecorators(IsString(), MinLength(1), MaxLength(120), IsCleanText(SINGLE_LINE));
const SkillsRules = () =>
  applyDecorators(IsArray(), ArrayMinSize(1), ArrayMaxSize(30), IsString({ each: true }), Matches(SKILL, { each: true, message: SKILL_MESSAGE }));
const CapacityRules = () => applyDecorators(IsInt(), Min(1), Max(1000));
const SystemPromptRules = () => applyDecorators(IsString(), MinLength(1), MaxLength(10_000), IsCleanText(PROMPT_TEXT));

/** An agent as POST /api/agents registers it, and as fixtures/agents.json lists it (readAgentProfiles). */
export class RegisterAgentBody {
  @ApiProperty({ example: 'agent-mila', description: 'Stable id: lowercase letters, digits and dashes' })
  @IsString()
  @Matches(new RegExp(AGENT_ID_PATTERN), { message: 'id must be 2 to 64 lowercase letters, digits or dashes' })
  id: string;

  @ApiProperty({ example: 'Mila – Night Desk' })
  @NameRules()
  name: string;

  @ApiProperty({ type: [String], example: ['guest_communication', 'german'] })
  @SkillsRules()
  skills: string[];

  @ApiProperty({ example: 4, description: 'Missions it may hold at once' })
  @CapacityRules()
  capacity: number;

  @ApiProperty({ example: 100 })
  @IsNumber()
  @Min(0)
  @Max(1_000_000)
  credits: number;

  @ApiProperty({ example: 'gpt-4o-mini' })
  @NameRules()
  model: string;

  @ApiProperty({ example: 'You are Mila, night desk agent of Hotel Seeblick. Answer only with the JSON object asked for.' })
  @SystemPromptRules()
  systemPrompt: string;

  @ApiPropertyOptional({ enum: AGENT_STATUSES, default: 'online' })
  @Omittable()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;
}

export class UpdateAgentBody {
  @ApiPropertyOptional()
  @Omittable()
  @NameRules()
  name?: string;

  @ApiPropertyOptional({ type: [String] })
  @Omittable()
  @SkillsRules()
  skills?: string[];

  @ApiPropertyOptional()
  @Omittable()
  @CapacityRules()
  capacity?: number;

  @ApiPropertyOptional()
  @Omittable()
  @NameRules()
  model?: string;

  @ApiPropertyOptional()
  @Omittable()
  @SystemPromptRules()
  systemPrompt?: string;

  @ApiPropertyOptional({ enum: AGENT_STATUSES, description: 'paused/offline agents get no new missions; running ones finish' })
  @Omittable()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;

  @ApiPropertyOptional({
    description: 'Why the status changes (kept in plain in the AgentStatusChanged event, so without an `@`); only with `status`, else a 400',
  })
  @Omittable()
  @IsString()
  @MaxLength(500)
  @IsCleanText(SINGLE_LINE)
  @IsKeptInPlain()
  reason?: string;
}
