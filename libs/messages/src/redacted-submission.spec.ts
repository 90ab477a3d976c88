import { REDACTED_MARKER } from '@app/mission';
import { redactedSubmission } from './redacted-submission';

const NAME = 'Anna Schmidt';
const EMAIL = 'anna.schmidt@example.com';
const PHONE = '+49 170 1234567';
const MESSAGE = 'Mir ist kalt in Zimmer 204';
const SECRETS = [NAME, EMAIL, PHONE, MESSAGE, 'anna'];

const mission = {
  type: 'guest_support',
  title: 'Heating',
  description: MESSAGE,
  priority: 'high',
  requiredSkills: ['guest_communication'],
  source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 42 },
  payload: { room: '204', guest: { id: 'g-1', name: NAME, email: EMAIL, phone: PHONE }, message: MESSAGE },
};
const missionId = '01a23bbd-3ddc-7429-8ee2-e0e7962a5229';

/** Whether any of the guest's data is left anywhere in what is kept. */
const leaks = (data: unknown) => SECRETS.filter((secret) => JSON.stringify(redactedSubmission(data)).toLowerCase().includes(secret.toLowerCase()));

describe('redactedSubmission (what a refused or poisoned submission keeps in plain)', () => {
  it('given a submission of an unknown type, then every field any type declares personal is redacted, and what the sender needs to find it is kept', () => {
    const kept = redactedSubmission({ missionId, idempotencyKey: 'ticket-42', mission: { ...mission, type: 'spa' } });
    expect(kept).toEqual({
      missionId,
      idempotencyKey: 'ticket-42',
      mission: {
        ...mission,
        type: 'spa',
        description: REDACTED_MARKER,
        payload: { room: '204', guest: { id: 'g-1', name: REDACTED_MARKER, email: REDACTED_MARKER, phone: REDACTED_MARKER }, message: REDACTED_MARKER },
      },
    });
  });

  // Each of these is refused by the intake, and each kept the guest's data in plain before.
  it.each([
    ['a guest id that is an e-mail address', { missionId, mission: { ...mission, payload: { ...mission.payload, guest: { id: EMAIL } } } }],
    ['subjects that are no opaque ids', { missionId, mission: { ...mission, subjects: [EMAIL, NAME] } }],
    ['a misspelt command property', { missionId, misson: mission }],
    ['a misspelt mission property', { missionId, mission: { ...mission, descripton: MESSAGE } }],
    ['a guest that is a string', { missionId, mission: { ...mission, payload: { room: '204', guest: NAME } } }],
    ['a guest that is a list', { missionId, mission: { ...mission, type: 'pricing', payload: { guest: [{ name: NAME, email: EMAIL }] } } }],
    ['a payload that is no object', { missionId, mission: { ...mission, payload: `${NAME}, ${PHONE}` } }],
    ['a source that is no object', { missionId, mission: { ...mission, source: EMAIL } }],
    ['a mission that is no object', { missionId, mission: MESSAGE }],
    ['data that is an array', [mission]],
    ['data that is a string', JSON.stringify(mission)],
    ['ids that are no ids', { missionId: EMAIL, idempotencyKey: `${NAME}`, correlationId: { guest: NAME }, mission }],
    ['ids that are e-mail addresses', { missionId, idempotencyKey: EMAIL, correlationId: EMAIL, mission }],
  ])('given %s, then none of the guest data is kept', (_shape, data) => {
    expect(leaks(data)).toEqual([]);
  });

  it('given a subject and a guest id that are opaque ids, then they are kept: a stored mission keeps them in plain too', () => {
    const kept = redactedSubmission({ mission: { ...mission, subjects: ['guest:g-1', 'booking:77'] } }) as { mission: Record<string, unknown> };
    expect(kept.mission).toMatchObject({ subjects: ['guest:g-1', 'booking:77'], payload: { guest: { id: 'g-1' } } });
  });

  it('given a "__proto__" property, then it stays a property of what is kept, redacted, and no prototype is set', () => {
    const kept = redactedSubmission(JSON.parse(`{"__proto__": {"polluted": "${NAME}"}, "mission": ${JSON.stringify(mission)}}`)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect(Object.hasOwn(kept, '__proto__')).toBe(true);
    expect(JSON.stringify(kept)).not.toContain(NAME);
  });
});
