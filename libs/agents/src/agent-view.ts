import type { AgentRecord } from './agent-events';

/**
 * An agent as the API shows it: the record plus its live figures. The console reads it too, so
 * this file imports nothing of the server (see browser.ts).
 */
export interface AgentView extends AgentRecord {
  load: number;
  credits: number;
  /** Rolling mean of recent verdict scores (0..1); null before the first verdict. */
  quality: number | null;
  recentMissions: { missionId: string; attempt: number; score: number; passed: boolean; at: string }[];
}

/** An agent as GET /api/agents shows it: the system prompt only to an operator, who manages it. */
export type AgentPublicView = Omit<AgentView, 'systemPrompt'> & Partial<Pick<AgentView, 'systemPrompt'>>;
