import { createHmac } from 'node:crypto';
import { EventEnvelope, missionIdFor, SUBMISSION_STREAM_SCOPE } from '@app/mission';

/** An Odoo record, as a mission's `source` names it. */
export interface OdooRecordRef {
  model: string;
  recordId: number;
}

/**
 * Names the missions the connector submits for Odoo records with an idempotency key only it can
 * make: an HMAC of the record under ODOO_API_KEY. The intake stream says nothing of who sent a
 * command, and every sender on it shares one scope: an id derived from the record alone (its
 * `source`) let any internal service take a record's mission id first, and have the connector post
 * its result to any record as the connector's user. The API key is the secret because whoever
 * holds it can write to Odoo as that user anyway: the mark grants no one more than they have.
 */
export class OdooMissionIdentity {
  constructor(private readonly secret: string) {}

  /** The idempotency key of the record's mission: the same for every submission of it, so a resend creates nothing new. */
  idempotencyKeyFor(record: OdooRecordRef): string {
    return `odoo:${createHmac('sha256', this.secret)
      .update(JSON.stringify([record.model, record.recordId]))
      .digest('hex')}`;
  }

  /** The id of the mission the connector submits for the record. */
  missionIdFor(record: OdooRecordRef): string {
    return missionIdFor(SUBMISSION_STREAM_SCOPE, {}, this.idempotencyKeyFor(record));
  }

  /** The Odoo record the connector submitted this mission for; null for any other sender's mission, which cannot make its id. */
  recordOf(created: EventEnvelope<'MissionCreated'>): OdooRecordRef | null {
    const source = created.data.source;
    return source?.system === 'odoo' && created.missionId === this.missionIdFor(source) ? source : null;
  }
}
