import { join } from 'node:path';
import { EventEnvelope, finishedStatus, missionIdFor, SUBMISSION_STREAM_SCOPE } from '@app/mission';
import { ApplyOutcome, Projection, ProjectionBatch } from '@app/projections';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { CONNECTOR, ConnectorKeys } from './connector-keys';

/** Result codes of enqueue-odoo-write-backs-3.lua. */
enum EnqueueCode {
  Applied = 0,
  Stale = 1,
}

const enqueueScript = new LuaScript(join(__dirname, 'lua'), 'enqueue-odoo-write-backs-3', { constants: { CODE: luaEnum(EnqueueCode) } });

/**
 * Whether the mission came in over the intake stream, as the connector submits (its id is the one
 * the stream's scope derives from the source). A REST client may name any Odoo record as its
 * mission's source (a key to de-duplicate by); posting its result there, as the connector's user,
 * would let any submitter write to any record, and retry a made-up one without end.
 */
function takenInOverTheStream(created: EventEnvelope<'MissionCreated'>): boolean {
  return created.missionId === missionIdFor(SUBMISSION_STREAM_SCOPE, created.data, undefined);
}

/**
 * Out, first half: a consumer of the mission log with its own checkpoint that queues a write-back
 * for every mission taken in from Odoo (takenInOverTheStream) that succeeds. Derived from the log, so no success is missed by a
 * connector that was down; "succeeded" is what the webhooks call it (`finishedStatus`), one rule
 * for both.
 */
export class OdooWriteBackProjection implements Projection {
  readonly name = CONNECTOR;
  /** A rebuild would post every result again (the posts are recorded, so it would not, but would query Odoo for each). */
  readonly readModelKeys: readonly string[] = [];

  constructor(
    private readonly keys: ConnectorKeys,
    private readonly clock: () => number = Date.now,
  ) {}

  async apply(redis: RedisConnection, batch: ProjectionBatch): Promise<ApplyOutcome> {
    const args: (string | number)[] = [batch.stream, batch.after, batch.lastId, batch.entries, this.clock()];
    for (const event of batch.events) {
      if (event.type === 'MissionCreated' && event.data.source?.system === 'odoo' && takenInOverTheStream(event)) {
        args.push('source', event.missionId, `${event.data.source.model}|${event.data.source.recordId}`);
      } else if (finishedStatus(event) === 'succeeded') {
        args.push('succeeded', event.missionId, '');
      }
    }
    const [code, detail] = (await enqueueScript.run(redis, [this.keys.checkpoint, this.keys.sources, this.keys.due], args)) as [number, number | string];
    if (code === EnqueueCode.Stale) return { kind: 'stale', checkpoint: String(detail) };
    return { kind: 'applied', applied: Number(detail), ignored: 0 };
  }
}
