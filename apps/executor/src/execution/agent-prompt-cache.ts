import { AgentRegistry } from '@app/agents';

/** How long an agent's system prompt is used before it is read again: how soon an edit reaches every executor. */
export const AGENT_PROMPT_TTL_MS = 5_000;
/** The prompt of an agent without a record (removed, or not registered yet), read again like any other. */
export const FALLBACK_SYSTEM_PROMPT = 'You are an AI agent of a hotel. Answer only with the JSON object the mission asks for.';

/**
 * Agents' system prompts, each read at most once per AGENT_PROMPT_TTL_MS: a read per attempt would
 * be a Redis round trip on the hot path, a read per process lifetime kept an edited prompt
 * (`PATCH /api/agents/:id`) out of every running executor until it restarted.
 */
export class AgentPromptCache {
  private readonly prompts = new Map<string, { prompt: string; readAt: number }>();

  constructor(
    private readonly agents: Pick<AgentRegistry, 'record'>,
    private readonly ttlMs = AGENT_PROMPT_TTL_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  async promptOf(agentId: string): Promise<string> {
    const now = this.clock();
    const cached = this.prompts.get(agentId);
    if (cached && now - cached.readAt < this.ttlMs) return cached.prompt;
    const prompt = (await this.agents.record(agentId))?.systemPrompt ?? FALLBACK_SYSTEM_PROMPT;
    this.prompts.set(agentId, { prompt, readAt: now });
    return prompt;
  }
}
