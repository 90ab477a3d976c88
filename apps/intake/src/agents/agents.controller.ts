import { Body, ConflictException, Controller, Get, NotFoundException, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import {
  AgentNotFoundError,
  AgentPublicView,
  AgentRecord,
  AgentRegistry,
  AgentVersionConflictError,
  AgentView,
  RegisterAgentBody,
  UpdateAgentBody,
} from '@app/agents';
import { apiClientOf, AuthenticatedRequest, RequiresRole, roleAllows } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { AgentViewSchema } from '../http/openapi-schemas';
import { invalid } from '../http/request-validation.pipe';

function forCaller(view: AgentView, request: AuthenticatedRequest): AgentPublicView {
  const client = apiClientOf(request);
  if (client && roleAllows(client.role, 'operator')) return view;
  const { systemPrompt: _omitted, ...rest } = view;
  return rest;
}
const agentId = new IdPipe('agent');

@ApiTags('agents')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/agents')
export class AgentsController {
  constructor(private readonly agents: AgentRegistry) {}

  @Get()
  @ApiOperation({
    summary: 'List agents',
    description: 'Needs role **reader**. Every agent with load, credits, quality and recent missions; `systemPrompt` only for an **operator** key.',
  })
  @ApiOkResponse({ type: [AgentViewSchema], description: 'The agents, by id.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'reader' })
  async list(@Req() request: AuthenticatedRequest): Promise<AgentPublicView[]> {
    return (await this.agents.list()).map((view) => forCaller(view, request));
  }

  @Get(':id')
  @ApiIdParam('agent')
  @ApiOperation({
    summary: 'Get an agent',
    description: 'Needs role **reader**. The agent with its current load, credits, quality and recent missions; `systemPrompt` only for an **operator** key.',
  })
  @ApiOkResponse({ type: AgentViewSchema, description: 'The agent.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'reader', notFound: 'No agent has this id.', id: 'agent' })
  async get(@Param('id', agentId) id: string, @Req() request: AuthenticatedRequest): Promise<AgentPublicView> {
    return forCaller(await this.load(id), request);
  }

  @Post()
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Register an agent',
    description: 'Needs role **operator**. Appends an AgentRegistered event; the agent gets missions at once when online.',
  })
  @ApiCreatedResponse({ type: AgentViewSchema, description: 'The registered agent.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    jsonBody: true,
    invalidField: { field: 'capacity', problem: 'capacity must not be less than 1' },
    conflict: 'An agent with this id exists.',
    conflictExample: 'agent agent-lena exists already; register it under another id, or change it with PATCH',
  })
  async register(@Body() body: RegisterAgentBody, @ApiCaller() caller: string): Promise<AgentView> {
    await this.guard(() => this.agents.register(body, caller));
    return this.load(body.id);
  }

  /** Profile changes become an AgentUpdated event, a status change an AgentStatusChanged: both or neither. */
  @Patch(':id')
  @RequiresRole('operator')
  @ApiIdParam('agent')
  @ApiOperation({
    summary: 'Change an agent',
    description:
      'Needs role **operator**. Profile fields become an AgentUpdated event, a status an AgentStatusChanged event; paused and offline agents get no new missions.',
  })
  @ApiOkResponse({ type: AgentViewSchema, description: 'The agent after the change.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    jsonBody: true,
    invalidField: { field: 'status', problem: 'status must be one of the following values: online, paused, offline' },
    notFound: 'No agent has this id.',
    id: 'agent',
    conflict: 'The agent changed at the same time.',
    conflictExample: 'agent agent-lena was changed concurrently; reload and retry',
  })
  async update(@Param('id', agentId) id: string, @Body() body: UpdateAgentBody, @ApiCaller() caller: string): Promise<AgentView> {
    const { status, reason, ...fields } = body;
    // Only an AgentStatusChanged event keeps a reason: without a status it would be dropped unseen.
    if (reason !== undefined && status === undefined)
      throw invalid([{ field: 'reason', problems: ['reason is kept only with a status change: give status too'] }]);
    // Validated bodies carry every declared field, absent ones as undefined: only given ones change.
    const changes = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    await this.guard(() => this.agents.change(id, { fields: changes, status: status && { status, reason: reason ?? 'changed by operator' } }, caller));
    return this.load(id);
  }

  private async load(id: string): Promise<AgentView> {
    const view = await this.agents.view(id);
    if (!view) throw new NotFoundException(`agent ${id} not found`);
    return view;
  }

  private async guard(change: () => Promise<AgentRecord>): Promise<AgentRecord> {
    try {
      return await change();
    } catch (error) {
      if (error instanceof AgentNotFoundError) throw new NotFoundException(error.message);
      if (error instanceof AgentVersionConflictError) throw new ConflictException(error.message);
      throw error;
    }
  }
}
