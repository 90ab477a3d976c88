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
 *   3. most credits (agents that earn good evaluations get more work);
 *   4. least recently assigned (round robin among equals);
 *   5. id, so the order is total and deterministic.
 */
export function rankAgents(agents: readonly AgentSnapshot[], needs: AssignmentNeeds): AgentSnapshot[] {
  const heldBefore = new Set(needs.previousAgentIds);
  return agents
    .filter((agent) => isQualified(agent, needs.requiredSkills))
    .sort(
      (a, b) =>
        Number(heldBefore.has(a.id)) - Number(heldBefore.has(b.id)) ||
        a.load / a.capacity - b.load / b.capacity ||
        b.credits - a.credits ||
        a.lastAssignedAt - b.lastAssignedAt ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

export function isQualified(agent: AgentSnapshot, requiredSkills: readonly string[]): boolean {
  return (
    agent.status === 'online' &&
    agent.load < agent.capacity &&
    requiredSkills.every((skill) => agent.skills.includes(skill))
  );
}
