import type { AgentReleased, MissionMessage, QueueReady } from './messages';
import type { ServiceName } from './services';
import type { SubmitMissionCommand } from './submit-mission.command';

/**
 * Every message on the service streams: its pattern and the service that consumes it. Messages
 * that follow a mission event are written by the same Lua script as the event; which event causes
 * which message is the pipeline's effect table (libs/pipeline).
 */
export const MESSAGE_ROUTES = {
  /** Internal services → intake: create a mission (the command stream documented in the README). */
  'mission.submit': 'intake',
  /** → orchestrator: there is ready work (missions queued, or leases handed back or expired). */
  'queue.ready': 'orchestrator',
  /** → orchestrator: an attempt ended (failed, evaluated or cancelled); its agent slot is free again. */
  'agent.released': 'orchestrator',
  /** Orchestrator → executor: run this assigned mission. */
  'mission.assigned': 'executor',
  /** Executor → evaluator: judge this completed attempt. */
  'mission.completed': 'evaluator',
} as const satisfies Record<string, ServiceName>;

export type MessagePattern = keyof typeof MESSAGE_ROUTES;

/** What each message carries. */
export interface MessagePayloads {
  'mission.submit': SubmitMissionCommand;
  'queue.ready': QueueReady;
  'agent.released': AgentReleased;
  'mission.assigned': MissionMessage;
  'mission.completed': MissionMessage;
}

/** A message as an effect writes it: a pattern with its payload. */
export type OutgoingMessage = { [P in MessagePattern]: { pattern: P; data: MessagePayloads[P] } }[MessagePattern];

/** The patterns whose payload is the mission's state, which the append script writes itself. */
export type MissionMessagePattern = { [P in MessagePattern]: MessagePayloads[P] extends MissionMessage ? P : never }[MessagePattern];

type RoutedTo<S extends ServiceName> = { [P in MessagePattern]: (typeof MESSAGE_ROUTES)[P] extends S ? P : never }[MessagePattern];

/** The patterns by the service that consumes them, for handler decorators; the compiler holds them to MESSAGE_ROUTES. */
export const Patterns = {
  intake: { submitMission: 'mission.submit' },
  orchestrator: { queueReady: 'queue.ready', agentReleased: 'agent.released' },
  executor: { missionAssigned: 'mission.assigned' },
  evaluator: { missionCompleted: 'mission.completed' },
} as const satisfies { [S in ServiceName]: Record<string, RoutedTo<S>> };
