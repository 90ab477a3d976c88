import { AgentProfile, AgentStatus } from './agent';

/** The operator-maintained part of an agent, as folded from its events. */
export interface AgentRecord {
  id: string;
  name: string;
  skills: string[];
  capacity: number;
  model: string;
  systemPrompt: string;
  status: AgentStatus;
  /** The last status change: why, by whom (the API key's name) and when; null since registration. */
  statusChange: AgentStatusChange | null;
  /**
   * Who made the last change to the profile or the status (the API key's name, `seed` for the
   * profiles file); null on records stored before it was kept, until their next change.
   */
  updatedBy: string | null;
  /** Credits it started with; live credits move with every verdict (AgentCreditsChanged). */
  initialCredits: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface AgentStatusChange {
  reason: string;
  by: string;
  at: string;
}

export type AgentChanges = Partial<Pick<AgentRecord, 'name' | 'skills' | 'capacity' | 'model' | 'systemPrompt'>>;

export type AgentEvent =
  | { type: 'AgentRegistered'; agentId: string; at: string; actor: string; data: AgentProfile }
  | { type: 'AgentUpdated'; agentId: string; at: string; actor: string; data: AgentChanges }
  | { type: 'AgentStatusChanged'; agentId: string; at: string; actor: string; data: { status: AgentStatus; reason: string } }
  /** Written once per verdict, when the orchestrator releases the slot the evaluated attempt held (AgentSlots). */
  | {
      type: 'AgentCreditsChanged';
      agentId: string;
      at: string;
      actor: string;
      data: { delta: number; missionId: string; attempt: number; score: number; passed: boolean };
    };

export class AgentNotFoundError extends Error {
  constructor(readonly agentId: string) {
    super(`agent ${agentId} not found`);
    this.name = 'AgentNotFoundError';
  }
}

/** Folds a profile event into the record. Credit changes do not touch the record. */
export function evolveAgent(record: AgentRecord | null, event: AgentEvent): AgentRecord | null {
  switch (event.type) {
    case 'AgentRegistered': {
      const { credits, status, ...profile } = event.data;
      return {
        ...profile,
        status: status ?? 'online',
        statusChange: null,
        initialCredits: credits,
        version: (record?.version ?? 0) + 1,
        createdAt: event.at,
        updatedAt: event.at,
        updatedBy: event.actor,
      };
    }
    case 'AgentUpdated':
      if (!record) throw new AgentNotFoundError(event.agentId);
      return { ...record, ...event.data, version: record.version + 1, updatedAt: event.at, updatedBy: event.actor };
    case 'AgentStatusChanged':
      if (!record) throw new AgentNotFoundError(event.agentId);
      return {
        ...record,
        status: event.data.status,
        statusChange: { reason: event.data.reason, by: event.actor, at: event.at },
        version: record.version + 1,
        updatedAt: event.at,
        updatedBy: event.actor,
      };
    case 'AgentCreditsChanged':
      return record;
  }
}
