/**
 * Every message pattern on the service streams, by the service that consumes it. Messages that
 * follow an event are written by the same Lua script as the event (see MissionStore effects).
 */
export const Patterns = {
  intake: {
    /** Orchestrator → intake: lease up to `max` ready missions. */
    leaseRequested: 'queue.lease',
    /** Orchestrator → intake: these leased missions could not be placed now. */
    leaseReturned: 'queue.release',
    /** Executor/evaluator → intake: an attempt failed; queue the next one or dead-letter. */
    attemptFailed: 'mission.retry',
    /** Internal services → intake: create a mission (the command stream documented in the README). */
    submitMission: 'mission.submit',
  },
  orchestrator: {
    /** Intake → orchestrator: there is ready work. */
    queueReady: 'queue.ready',
    /** Intake → orchestrator: the missions of one lease. */
    missionsLeased: 'missions.leased',
    /** Executor/evaluator → orchestrator: an agent slot is free again. */
    agentReleased: 'agent.released',
  },
  executor: {
    missionAssigned: 'mission.assigned',
  },
  evaluator: {
    missionCompleted: 'mission.completed',
  },
} as const;
