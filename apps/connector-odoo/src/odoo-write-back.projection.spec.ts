import { KeyLayout } from '@app/event-store';
import { MissionEvent } from '@app/mission';
import { aCreateInput, anEvaluation, deleteKeysByPrefix, testKeyPrefix, testRedisConnection, toEnvelopes } from '@app/testing';
import { ConnectorKeys } from './connector-keys';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { recordField } from './odoo-refusals';
import { OdooWriteBackProjection } from './odoo-write-back.projection';

describe('OdooWriteBackProjection (real Redis)', () => {
  const redis = testRedisConnection('odoo-write-back-projection-spec');
  const layout = new KeyLayout(testKeyPrefix('odoo-write-back-projection'));
  const keys = new ConnectorKeys(layout);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, layout.prefix);
    await redis.quit();
  });

  /** A mission from Odoo record `recordId` created with id `missionId`, and its pass. */
  const createdAndPassed = (missionId: string, recordId: number): MissionEvent[] =>
    toEnvelopes(
      [
        { type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: [], source: { system: 'odoo', model: 'helpdesk.ticket', recordId } } },
        { type: 'MissionEvaluated', data: anEvaluation(1, true) },
      ],
      { missionId },
    );

  it('given missions naming Odoo records, when they succeed, then only those the connector submitted are queued: by its mark under the key of today, or as it recorded them under an earlier key', async () => {
    const today = new OdooMissionIdentity('odoo-api-key-of-today');
    const before = new OdooMissionIdentity('odoo-api-key-before-rotation');
    const marked = today.missionIdFor({ model: 'helpdesk.ticket', recordId: 1 });
    const earlier = before.missionIdFor({ model: 'helpdesk.ticket', recordId: 2 });
    const foreign = before.missionIdFor({ model: 'helpdesk.ticket', recordId: 3 });
    // The connector took record 2 in before the key changed; record 3 it took in under another mission.
    await redis.hset(keys.submitted, recordField({ model: 'helpdesk.ticket', recordId: 2 }), earlier);
    await redis.hset(keys.submitted, recordField({ model: 'helpdesk.ticket', recordId: 3 }), 'a-mission-of-its-own');
    const events = [...createdAndPassed(marked, 1), ...createdAndPassed(earlier, 2), ...createdAndPassed(foreign, 3)];

    const outcome = await new OdooWriteBackProjection(keys, today, () => 1_000).apply(redis, {
      stream: 'log',
      after: '',
      lastId: '6-0',
      entries: events.length,
      events,
      unreadable: [],
    });

    // The earlier one was dropped: the mark under today's key was the only test, so a rotation or a rebuild lost it.
    expect(outcome).toEqual({ kind: 'applied', applied: 2, ignored: 0 });
    expect((await redis.zrange(keys.due, 0, -1)).sort()).toEqual([marked, earlier].sort());
  });
});
