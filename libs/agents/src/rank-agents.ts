import { AgentSnapshot } from './agent';

export interface AssignmentNeeds {
  requiredSkills: readonly string[];
  /** Agents that held earlier attempts of the mission; they come last among the qualified. */
  previousAgentIds: readonly string[];
}

/**
 * The agents that may take a mission, best first.
 *
 * Hard filters: online, every required skill, spare capacity (load < capacity).
 * Ranking, each key breaking the ties of the one before:
 *   1. did not hold an earlier attempt of this mission (a retry goes to a fresh pair of eyes);
 *   2. lowest load as a share of capacity (spreads work; a big agent takes more);
 *   3. highest rolling quality (an agent without verdicts yet counts as NEUTRAL_QUALITY);
 *   4. most credits (agents that earn good evaluations get more work);
 *   5. least recently assigned (round robin among equals);
 *   6. id, so the order is total and deterministic.
 */
/** Quality assumed for an agent with no verdicts yet: neither favoured nor held back. */
export const NEUTRAL_QUALITY = 0.75;

export function rankAgents(agents: readonly AgentSnapshot[], needs: AssignmentNeeds): AgentSnapshot[] {
  const heldBefore = new Set(needs.previousAgentIds);
  return agents
    .filter((agent) => isQualified(agent, needs.requiredSkills))
    .sort(
      (a, b) =>
        Number(heldBefore.has(a.id)) - Number(heldBefore.has(b.id)) ||
        a.load / a.capacity - b.load / b.capacity ||
        (b.quality ?? NEUTRAL_QUALITY) - (a.quality ?? NEUTRAL_QUALITY) ||
        b.credits - a.credits ||
        a.lastAssignedAt - b.lastAssignedAt ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

export function isQualified(agent: AgentSnapshot, requiredSkills: readonly string[]): boolean {
  return agent.status === 'online' && agent.load < agent.capacity && requiredSkills.every((skill) => agent.skills.includes(skill));
}
