import { MissionCreateDto } from './mission-create.dto';
import { apiScope, bodyFingerprint, deduplicationKey, missionIdFor, SUBMISSION_STREAM_SCOPE } from './mission-identity';

const body: MissionCreateDto = {
  type: 'maintenance',
  title: 'AC broken in room 204',
  description: 'warm air',
  priority: 'high',
  payload: { room: '204', guest: { vip: true, name: 'Maier' } },
};

describe('mission identity', () => {
  it('given the same idempotency key from two API keys or the stream, then each names its own mission', () => {
    const ids = [apiScope('odoo'), apiScope('crm'), SUBMISSION_STREAM_SCOPE].map((scope) => missionIdFor(scope, body, 'k-1'));
    expect(new Set(ids).size).toBe(3);
    expect(missionIdFor(apiScope('odoo'), body, 'k-1')).toBe(ids[0]);
  });

  it('given source parts that concatenate alike, then their keys differ', () => {
    const a = deduplicationKey('s', { source: { system: 'odoo:x', model: 'y', recordId: 1 } }, undefined);
    const b = deduplicationKey('s', { source: { system: 'odoo', model: 'x:y', recordId: 1 } }, undefined);
    expect(a).not.toBe(b);
    // Nor can a scope name borrow a key's parts.
    expect(deduplicationKey('api:a', body, 'b')).not.toBe(deduplicationKey('api', body, 'a:b'));
  });

  it('given the same body with its keys in another order, then the fingerprint is the same; another body, another fingerprint', () => {
    const reordered = {
      payload: { guest: { name: 'Maier', vip: true }, room: '204' },
      priority: 'high',
      description: 'warm air',
      title: body.title,
      type: 'maintenance',
    } as MissionCreateDto;
    expect(bodyFingerprint(reordered)).toBe(bodyFingerprint(body));
    expect(bodyFingerprint({ ...body, title: 'AC broken in room 205' })).not.toBe(bodyFingerprint(body));
  });
});
