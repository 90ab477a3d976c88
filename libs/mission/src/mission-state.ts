import { Evaluation, MissionResult, MissionSource } from './mission-events';
import { MissionStatus } from './mission-status';
import { MissionType, PriorityLevel } from './mission-type';

/** A mission as projected from its events: what the API returns and what messages carry. */
export interface Mission {
  id: string;
  type: MissionType;
  title: string;
  description: string;
  priority: PriorityLevel;
  priorityScore: number;
  requiredSkills: string[];
  payload: Record<string, unknown>;
  deadline?: string;
  /** While `scheduled`: when it goes into the ready queue (a later start, or a retry's next attempt). */
  notBefore?: string;
  /** When the deadline was found passed with the mission unfinished (MissionOverdue); absent until then. */
  overdueAt?: string;
  source?: MissionSource;
  status: MissionStatus;
  /**
   * Attempts made over the mission's whole life: a requeue does not reset it, so attempt N names
   * one attempt in every event, message and agent slot hold.
   */
  attempts: number;
  /** `attempts` when an operator last requeued the mission; `MAX_ATTEMPTS` counts the attempts after it. Absent before a requeue. */
  attemptsAtRequeue?: number;
  assignedAgentId: string | null;
  /** Agents that held earlier attempts, oldest first. */
  previousAgentIds: string[];
  result: MissionResult | null;
  evaluation: Evaluation | null;
  /** What the evaluator asked the next attempt to do better. */
  feedback: string | null;
  lastError: string | null;
  correlationId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}
