import { verifyLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { RunningSystem } from '../../scripts/launcher';
import { launchBuiltSystem } from '../support/launched-system';

const SECRET = 'both-modes-secret-0123456789';
const headers = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' };

const maintenance = (title: string) => ({
  type: 'maintenance',
  title,
  description: 'Reported by the night shift.',
  priority: 'normal',
  payload: { room: '112' },
});
/** Contradictory rate limits: no attempt can pass, so its first failed verdict dead-letters it (a permanent failure). */
const impossiblePricing = {
  type: 'pricing',
  title: 'Rate for the fair weekend',
  description: 'Set the weekend rate.',
  priority: 'high',
  payload: { minRate: 189, maxRate: 169, currency: 'EUR' },
};

/**
 * The same end-to-end flow with the services launched as `npm start` launches them, in both modes:
 * four processes (`--split`) and one process (the default). The Jest e2e suite runs the four
 * applications in its own process; the fault suite runs them as four processes.
 */
describe.each([
  ['four processes', false],
  ['one process', true],
])('the services as %s', (_mode, oneProcess) => {
  const prefix = testKeyPrefix(oneProcess ? 'one-process' : 'split');
  const redis = testRedisConnection('both-modes-spec');
  let system: RunningSystem;
  let api: string;

  beforeAll(async () => {
    ({ system, api } = await launchBuiltSystem(
      { KEY_PREFIX: prefix, API_KEYS: `ops:${SECRET}:operator`, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', MAX_ATTEMPTS: '2' },
      { oneProcess },
    ));
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  const create = async (body: object) => {
    const response = await fetch(`${api}/api/missions`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const status = async (id: string) => ((await (await fetch(`${api}/api/missions/${id}`, { headers })).json()) as { status: string; attempts: number }).status;

  it('given missions that pass and one that cannot, then they succeed or are dead-lettered at once as a permanent failure, and the log verifies', async () => {
    const passing = await Promise.all(Array.from({ length: 10 }, (_, i) => create(maintenance(`Leaking tap in room ${110 + i}`))));
    const failing = await create(impossiblePricing);

    await waitFor(async () => (await Promise.all(passing.map(status))).every((s) => s === 'succeeded'), { timeoutMs: 30_000, what: 'ten missions to succeed' });
    await waitFor(async () => (await status(failing)) === 'dead_lettered', { timeoutMs: 30_000, what: 'the impossible mission to be dead-lettered' });
    const dead = (await (await fetch(`${api}/api/missions/${failing}`, { headers })).json()) as { attempts: number; lastError: string };
    expect(dead.attempts).toBe(1);
    expect(dead.lastError).toMatch(/minRate 189 is above maxRate 169/);

    const report = await verifyLog(redis, new KeyLayout(prefix));
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
