import { KeyLayout } from '@app/event-store';
import { projectionCheckpointKey } from '@app/projections';
import { CONNECTOR_ODOO } from '@app/runtime';

/** The connector's name among the log's consumers (its keys and its checkpoint), and the one it tells the launcher it listens under. */
export const CONNECTOR = CONNECTOR_ODOO;

/**
 * The connector's keys, under the projections' hash tag `{p}`: the write-back outbox moves its
 * checkpoint and writes its jobs in one script, and recording a post touches one slot.
 */
export class ConnectorKeys {
  constructor(private readonly keys: KeyLayout) {}

  private key(part: string): string {
    return this.keys.projection(CONNECTOR, part);
  }
  /** Rule name → '<write_date>|<id>' of the last record taken in. */
  get cursors(): string {
    return this.key('cursors');
  }
  /** Rule name → the second (Odoo's UTC text) its reading began at (ODOO_SINCE, or its first poll): nothing written before is taken in. */
  get starts(): string {
    return this.key('starts');
  }
  /** '<model>:<record id>' → mission id, for every record taken in. */
  get submitted(): string {
    return this.key('submitted');
  }
  /** '<model>:<record id>' → why its mission was refused (by the connector or the intake); taken in again after an edit. */
  get refused(): string {
    return this.key('refused');
  }
  /** Chatter notes of refusals still to post: '<model>:<record id>' → JSON {model, recordId, missionId, reason, …}; a record's newer refusal replaces its older note. */
  get refusalNotes(): string {
    return this.key('refusal-notes');
  }
  /** '<model>:<record id>' → JSON {skills, attempts, nextAttemptAt} of a record the intake refused: taken in again once an agent has the skills. */
  get refusedForSkills(): string {
    return this.key('refused-for-skills');
  }
  /** Partition → id of the last entry read from its intake's rejected-submission stream. */
  get rejectedCursors(): string {
    return this.key('rejected-cursors');
  }
  /** What the last poll, by whichever instance, found: `reachable` ('1' or '0'), `lastError`, `checkedAt`, and `polledBy` (that instance, `<host>:<pid>`). Reported, not each instance's readiness. */
  get odooStatus(): string {
    return this.key('odoo-status');
  }
  /** The token of the instance whose poll round it is: renewed through the round, kept for half of ODOO_POLL_MS after it. */
  get pollLock(): string {
    return this.key('poll-lock');
  }
  get checkpoint(): string {
    return projectionCheckpointKey(this.keys, CONNECTOR);
  }
  /** Mission id → '<model>|<record id>' of the missions that came from Odoo. */
  get sources(): string {
    return this.key('sources');
  }
  /** Write-backs to make, by when they are due (ms); a claimed one by when its claim lapses. */
  get due(): string {
    return this.key('due');
  }
  /** Mission id → the chatter message id of its posted result. */
  get posted(): string {
    return this.key('posted');
  }
  /** Mission id → JSON {attempts, lastError, failingSince} of a write-back that has failed. */
  get failures(): string {
    return this.key('failures');
  }
  /** Mission id → JSON {model, recordId, reason, abandonedAt} of a write-back given up: its record is gone from Odoo. */
  get abandoned(): string {
    return this.key('abandoned');
  }
  /** The connector's events: OdooResultPosted per posted result, OdooWriteBackAbandoned per write-back given up. */
  get events(): string {
    return this.key('events');
  }
}
