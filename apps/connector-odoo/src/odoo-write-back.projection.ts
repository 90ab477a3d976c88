import { join } from 'node:path';
import { finishedStatus } from '@app/mission';
import { ApplyOutcome, Projection, ProjectionBatch, ProjectionScript } from '@app/projections';
import { RedisConnection } from '@app/redis';
import { CONNECTOR, ConnectorKeys } from './connector-keys';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { recordField } from './odoo-refusals';

const enqueueScript = new ProjectionScript(join(__dirname, 'lua'), 'enqueue-odoo-write-backs-4');

/**
 * Out, first half: a consumer of the mission log with its own checkpoint that queues a write-back
 * for every mission the connector itself submitted for an Odoo record (OdooMissionIdentity) that
 * succeeds. No other mission's result is posted, whatever record it names as its source: a REST
 * client or another service on the intake stream could otherwise have the connector's user write
 * to any record. Derived from the log, so no success is missed by a connector that was down;
 * "succeeded" is what the webhooks call it (`finishedStatus`), one rule for both.
 */
export class OdooWriteBackProjection implements Projection {
  readonly name = CONNECTOR;
  /** A rebuild would post every result again (the posts are recorded, so it would not, but would query Odoo for each). */
  readonly readModelKeys: readonly string[] = [];

  constructor(
    private readonly keys: ConnectorKeys,
    private readonly identity: OdooMissionIdentity,
    private readonly clock: () => number = Date.now,
  ) {}

  async apply(redis: RedisConnection, batch: ProjectionBatch): Promise<ApplyOutcome> {
    const args: (string | number)[] = [this.clock()];
    for (const event of batch.events) {
      const source = event.type === 'MissionCreated' && event.data.source?.system === 'odoo' ? event.data.source : null;
      if (event.type === 'MissionCreated' && source) {
        // Without the mark under today's ODOO_API_KEY (a mission from before the key changed, or from
        // before the mark, met again after a lag or a rebuild), what the connector recorded when it
        // submitted decides: another sender's mission is never in it.
        const kind = this.identity.recordOf(event) ? 'source' : 'source-if-taken-in';
        args.push(kind, event.missionId, `${source.model}|${source.recordId}`, recordField(source));
      } else if (finishedStatus(event) === 'succeeded') {
        args.push('succeeded', event.missionId, '', '');
      }
    }
    const keys = [this.keys.checkpoint, this.keys.sources, this.keys.due, this.keys.submitted];
    return enqueueScript.apply(redis, keys, batch, args);
  }
}
