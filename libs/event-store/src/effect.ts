import { ServiceName } from './key-layout';

/** Something that must change in the same atomic step as a mission's events. */
export type Effect =
  /** Claims the idempotency key; a second create with it returns the first mission instead. */
  | { kind: 'idempotency'; key: string }
  /** The mission must still be leased to the caller; the lease ends. */
  | { kind: 'require-lease' }
  | { kind: 'claim-agent'; agentId: string }
  | { kind: 'release-agent'; agentId: string }
  | { kind: 'record-assignment'; agentId: string; at: number }
  /**
   * A verdict moves the agent's credits and rolling quality, and records an AgentCreditsChanged
   * event (`event`, already built) in the agent's stream.
   */
  | { kind: 'credit-agent'; agentId: string; delta: number; score: number; event: unknown }
  /** Puts the mission into the ready queue with this score (lower is served first). */
  | { kind: 'enqueue'; score: number; enqueuedAt: number; level: string }
  | { kind: 'leave-queue' }
  | { kind: 'dead-letter'; at: number }
  | { kind: 'leave-dead-letters' }
  | { kind: 'count'; counter: string; by: number }
  /** A message to another service, written with the events so that neither exists without the other. */
  | { kind: 'emit'; to: ServiceName; pattern: string; data: unknown };
