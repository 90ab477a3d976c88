/**
 * Why the intake refused a `mission.submit` command: the `code` field of its rejected-submission
 * stream, for senders that act on a refusal (the Odoo connector takes a record in again once an
 * agent has the skills) without reading its words.
 */
export enum RejectionCode {
  /** The command was not valid (a field's problem, too big): the sender must change it. */
  Invalid = 'invalid',
  /** No registered agent has every skill the mission needs: it could be taken once one has them. */
  NoAgentHasSkills = 'no_agent_has_skills',
  /** A valid command refused for anything else (an idempotency conflict, text too long for a prompt). */
  Refused = 'refused',
}
