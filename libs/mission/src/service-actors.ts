/**
 * The actors the services write into the audit trail themselves (an event's `actor`), in one place.
 * An API key's name is the actor of everything done with it, so parseApiKeys refuses a key named
 * as one of these: else a person's erasure or cancel would read as the retention timer's, or a
 * service's. The ones holding a colon cannot be a key's name anyway; they are listed so that every
 * service actor is named here. Missions submitted over the intake stream have the actor
 * `stream:mission.submit`, built from its pattern where it is written.
 */
export const SERVICE_ACTORS = {
  intake: 'intake',
  orchestrator: 'orchestrator',
  executor: 'executor',
  evaluator: 'evaluator',
  connectorOdoo: 'connector-odoo',
  retention: 'retention',
  seed: 'seed',
  webhookDispatcher: 'webhook-dispatcher',
  schedule: 'intake:schedule',
  deadlineWatch: 'intake:deadline-watch',
  reviewDeadline: 'intake:review-deadline',
} as const;

const RESERVED: ReadonlySet<string> = new Set(Object.values(SERVICE_ACTORS));

/** Whether `name` is a service's own actor, in any case: `Retention` reads as `retention` to a person. */
export function isServiceActor(name: string): boolean {
  return RESERVED.has(name.toLowerCase());
}
