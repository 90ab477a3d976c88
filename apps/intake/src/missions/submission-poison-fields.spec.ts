import { encodeMessage } from '@app/redis-streams';
import { intakeService } from '../intake.definition';

const GUEST = { id: 'g-1', name: 'Anna Schmidt', email: 'anna@example.com' };
const submission = {
  missionId: '01a23bbd-3ddc-7429-8ee2-e0e7962a5229',
  mission: {
    type: 'guest_support',
    title: 'Heating',
    description: 'Anna is cold',
    priority: 'high',
    payload: { room: '204', guest: GUEST, message: 'Mir ist kalt' },
  },
};

describe('what the intake keeps of a poisoned submission', () => {
  const poisonFields = intakeService.poisonFields;

  it('given a submission the intake failed to take, then the poison stream gets it with every personal field [redacted]', () => {
    expect(poisonFields).toBeDefined();
    const kept = poisonFields?.(encodeMessage('mission.submit', submission, { traceparent: '00-abc-01' })) ?? [];
    const text = kept.join('\n');
    for (const needle of ['Anna', 'anna@example.com', 'Mir ist kalt']) expect({ needle, found: text.includes(needle) }).toEqual({ needle, found: false });
    expect(kept.slice(0, 2)).toEqual(['pattern', 'mission.submit']);
    expect(kept.slice(4)).toEqual(['traceparent', '00-abc-01']);
    expect(JSON.parse(kept[3])).toMatchObject({
      missionId: submission.missionId,
      mission: { title: 'Heating', description: '[redacted]', payload: { room: '204', guest: { id: 'g-1', name: '[redacted]' }, message: '[redacted]' } },
    });
  });

  it('given data that is not JSON, then only the marker is kept', () => {
    expect(poisonFields?.(['pattern', 'mission.submit', 'data', '{"guest": "Anna Schmidt"'])).toEqual(['pattern', 'mission.submit', 'data', '"[redacted]"']);
  });

  it('given a submission with its data under another field than data, then that field keeps the marker alone', () => {
    const sent = ['pattern', 'mission.submit', 'payload', JSON.stringify(submission), 'traceparent', '00-abc-01', 'guest', 'Anna Schmidt'];
    expect(poisonFields?.(sent)).toEqual(['pattern', 'mission.submit', 'payload', '[redacted]', 'traceparent', '00-abc-01', 'guest', '[redacted]']);
  });
});
