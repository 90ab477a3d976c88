export const AGENT_STATUSES = ['online', 'paused', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** An agent as an operator defines it (fixtures/agents.json). */
export interface AgentProfile {
  id: string;
  name: string;
  skills: string[];
  capacity: number;
  credits: number;
  model: string;
  systemPrompt: string;
  status?: AgentStatus;
}

/** An agent's live figures at the moment of an assignment decision. */
export interface AgentSnapshot {
  id: string;
  skills: readonly string[];
  status: AgentStatus;
  capacity: number;
  load: number;
  credits: number;
  /** Rolling mean of verdict scores (0..1); null before the first verdict. */
  quality: number | null;
  /** ms since epoch, 0 when never assigned. */
  lastAssignedAt: number;
}
