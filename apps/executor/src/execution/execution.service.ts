import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentRegistry } from '@app/agents';
import { Environment } from '@app/config';
import { MissionStore } from '@app/event-store';
import { buildLlmRequest, LLM_CLIENT, LlmClient } from '@app/llm';
import { Patterns } from '@app/messages';
import { decideComplete, decideFail, decideStart, Mission } from '@app/mission';
import { ENVIRONMENT } from '@app/runtime';

const ACTOR = 'executor';
const FALLBACK_SYSTEM_PROMPT = 'You are an AI agent of a hotel. Answer only with the JSON object the mission asks for.';

/** Runs an assigned mission as its agent through the LLM client and records the outcome. */
@Injectable()
export class ExecutionService {
  private readonly systemPrompts = new Map<string, string>();

  constructor(
    private readonly store: MissionStore,
    private readonly agents: AgentRegistry,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(ExecutionService.name) private readonly logger: PinoLogger,
  ) {}

  async execute(assigned: Mission): Promise<void> {
    const attempt = assigned.attempts;
    const started = await this.store.transition(assigned, (m) => decideStart(m, attempt), { actor: ACTOR });
    if (started.kind === 'not_found' || started.kind === 'lease_lost' || started.kind === 'agent_full') return;
    const mission = started.mission;
    // A redelivered message after a crash mid-call finds the attempt running: run it again.
    const resumable = mission.status === 'running' && mission.attempts === attempt && mission.lastError === null;
    if (started.kind === 'skipped' && !resumable) return;

    let result;
    try {
      const response = await this.llm.complete(
        buildLlmRequest(mission, { systemPrompt: await this.systemPrompt(mission), timeoutMs: this.env.EXECUTION_TIMEOUT_MS }),
      );
      result = { output: response.output, model: response.model, latencyMs: response.latencyMs, usage: response.usage };
    } catch (error) {
      await this.fail(mission, attempt, error instanceof Error ? error.message : String(error));
      return;
    }
    await this.store.transition(mission, (m) => decideComplete(m, attempt, result), { actor: ACTOR }, (next) => [
      { kind: 'emit', to: 'evaluator', pattern: Patterns.evaluator.missionCompleted, data: { mission: next } },
    ]);
  }

  /** Records the failure, frees the agent, and asks the intake for the next attempt — atomically. */
  private async fail(mission: Mission, attempt: number, error: string): Promise<void> {
    const agentId = mission.assignedAgentId ?? '';
    this.logger.warn({ missionId: mission.id, correlationId: mission.correlationId, attempt, agentId, error }, 'execution failed');
    await this.store.transition(mission, (m) => decideFail(m, attempt, error), { actor: ACTOR }, (next) => [
      { kind: 'release-agent', agentId },
      { kind: 'emit', to: 'intake', pattern: Patterns.intake.attemptFailed, data: { missionId: next.id, attempt } },
      { kind: 'emit', to: 'orchestrator', pattern: Patterns.orchestrator.agentReleased, data: { agentId } },
    ]);
  }

  private async systemPrompt(mission: Mission): Promise<string> {
    const agentId = mission.assignedAgentId ?? '';
    let prompt = this.systemPrompts.get(agentId);
    if (prompt === undefined) {
      prompt = (await this.agents.profile(agentId))?.systemPrompt ?? FALLBACK_SYSTEM_PROMPT;
      this.systemPrompts.set(agentId, prompt);
    }
    return prompt;
  }
}
