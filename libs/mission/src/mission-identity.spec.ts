import { MissionCreateDto } from './mission-create.dto';
import { apiScope, canonicalCreateBody, deduplicationKey, missionIdFor, plainBodyFingerprint, SUBMISSION_STREAM_SCOPE } from './mission-identity';

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

  it('given the same body with its keys in another order, then its canonical form is the same; another body, another form', () => {
    const reordered = {
      payload: { guest: { name: 'Maier', vip: true }, room: '204' },
      priority: 'high',
      description: 'warm air',
      title: body.title,
      type: 'maintenance',
    } as MissionCreateDto;
    expect(canonicalCreateBody(reordered)).toBe(canonicalCreateBody(body));
    expect(canonicalCreateBody({ ...body, title: 'AC broken in room 205' })).not.toBe(canonicalCreateBody(body));
  });

  it('given bodies as stored with idempotency records before fingerprints were keyed, then their plain fingerprints are what they were: such a record must still match its repeat', () => {
    const full = {
      ...body,
      requiredSkills: ['facility_maintenance'],
      deadline: '2026-05-01T18:00:00Z',
      notBefore: '2026-05-01T07:00:00Z',
      subjects: ['guest:4711'],
      source: { system: 'odoo', model: 'maintenance.request', recordId: 4711 },
      payload: { room: '204', note: null, guest: { id: 4711, vip: true } },
    } as MissionCreateDto;
    expect(plainBodyFingerprint(body)).toBe('8c864b84e7d7802df5ff5e6b73b5e785f8ccbe4e65ad0d6ed9659fa3aacd18de');
    expect(plainBodyFingerprint(full)).toBe('e30d4a19bbeaab377733a9c0637f007a7f1cebaba5f097cde7d3384bbb3e207c');
  });

  it('given an optional field sent as null, then it reads as left out: null stands for a field left out', () => {
    const nulls = { ...body, requiredSkills: null, deadline: null, notBefore: null, subjects: null, source: null } as unknown as MissionCreateDto;
    expect(canonicalCreateBody(nulls)).toBe(canonicalCreateBody(body));
    // Within the payload a null is a value the agent reads, not a field left out.
    expect(canonicalCreateBody({ ...body, payload: { ...body.payload, note: null } })).not.toBe(canonicalCreateBody(body));
  });
});
