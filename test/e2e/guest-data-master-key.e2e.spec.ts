import { GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { Mission } from '@app/mission';
import { TEST_DATA_KEY_SECRET } from '@app/testing';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const GUEST = { id: 'g-rotated', name: 'Clara Rotation', email: 'clara.rotation@example.com', phone: '+49 89 5550199' };
const SUBJECT = `guest:${GUEST.id}`;
/** The master key the rest of the deployment rotated to: this system was not restarted with it. */
const ROTATED_SECRET = 'rotated-master-key-for-guest-data-9876543210';

const guestRequest = {
  type: 'guest_support',
  title: 'Late check-out, room 118',
  description: 'Guest writes: may I stay until two?',
  priority: 'normal',
  payload: { language: 'en', room: '118', guest: GUEST, message: 'May I keep the room until 2 pm?' },
};

describe('guest data wrapped under a master key this system is not configured with (four services, real Redis)', () => {
  let system: InProcessSystem;
  let mission: Mission;
  const configured = MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET).current.id;
  const rotated = MasterKeyRing.fromSecrets(ROTATED_SECRET).current.id;

  beforeAll(async () => {
    // No key cache: every request reads the key records, as a process started after the rotation would.
    system = await startInProcessSystem('e2e-guest-data-master-key', { DATA_KEY_CACHE_TTL_MS: '0', REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml' });
    const created = (await system.api.post('/api/missions').send(guestRequest).expect(201)).body as Mission;
    mission = await system.waitForStatus(created.id, ['awaiting_review']);
    // The rotation's rewrap, run elsewhere with the new key current and the old one previous: every key record now names the new one.
    const rewrapping = new SubjectKeyStore(
      system.redis,
      new GuestDataKeys(system.prefix),
      MasterKeyRing.fromSecrets(ROTATED_SECRET, [TEST_DATA_KEY_SECRET]),
      new SubjectKeyCache(0, 1),
    );
    expect(await rewrapping.rewrap()).toMatchObject({ rewrapped: 1 });
  });
  afterAll(async () => system.close());

  const requests: [string, () => ReturnType<InProcessSystem['api']['get']>][] = [
    ['GET /api/subjects/:id', () => system.api.get(`/api/subjects/${SUBJECT}`)],
    ['GET /api/missions/:id', () => system.api.get(`/api/missions/${mission.id}`)],
    ['GET /api/missions', () => system.api.get('/api/missions')],
    ['GET /api/reviews', () => system.api.get('/api/reviews')],
    ['POST /api/missions naming the subject', () => system.api.post('/api/missions').send({ ...guestRequest, title: 'Taxi for room 118' })],
  ];

  it.each(requests)(
    'given %s, then it is a 503 naming the master key needed and the one configured, and nothing of the keys or the guest',
    async (_name, send) => {
      const response = await send();

      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining(`wrapped under master key ${rotated}, which this service is not configured with (configured: ${configured})`),
        details: [],
      });
      expect(response.body.message).toMatch(/DATA_KEY_SECRET.*DATA_KEY_PREVIOUS_SECRETS/);
      for (const secret of [ROTATED_SECRET, TEST_DATA_KEY_SECRET, SUBJECT, GUEST.name, GUEST.email, GUEST.phone]) expect(response.text).not.toContain(secret);
    },
  );
});
