import { waitFor, WebhookReceiver } from '@app/testing';
import { MISSION_FINISHED } from '@app/webhooks';
import { BUILD_TIMEOUT_MS, buildOnce, Scenario, sleep, Workload } from './support';

const MISSIONS = 200;
const OPERATOR_KEY = 'faults-operator-secret-0001';

/**
 * Webhooks while the process that runs the outbox and the dispatcher dies: the intake is killed
 * with SIGKILL twice, once while the receiver answers 500 and once while deliveries flow. Every
 * mission's `mission.finished` must still reach the receiver, signed, and exactly once after
 * de-duplicating by webhook-id: the outbox resumes from its checkpoint, lapsed claims are retried.
 */
describe('fault: webhooks while the intake is killed -9', () => {
  const scenario = new Scenario('webhooks-kill9', {
    env: {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_ONLY_ALLOWED_HOSTS: 'true',
      WEBHOOK_BACKOFF_MS: '50',
      WEBHOOK_BACKOFF_MAX_MS: '500',
      WEBHOOK_TIMEOUT_MS: '1000',
    },
  });
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    buildOnce();
    receiver = await WebhookReceiver.start();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await scenario.close();
    await receiver.close();
  }, 30_000);

  it(`given ${MISSIONS} missions and a receiver failing at first, when the intake is killed -9 twice, then each finished mission arrives exactly once`, async () => {
    const response = await fetch(`http://127.0.0.1:${scenario.processes.port('intake', 0)}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, eventTypes: [MISSION_FINISHED] }),
    });
    expect(response.status).toBe(201);
    receiver.secrets = [((await response.json()) as { secret: string }).secret];
    let failing = true;
    receiver.respond = () => (failing ? 500 : 200);

    const workload = new Workload(scenario.redis, scenario.prefix, { total: MISSIONS, batchSize: 20, intervalMs: 300, tag: 'hooks' }).start();
    await waitFor(async () => receiver.received.length > 0, { timeoutMs: 60_000, what: 'a first (failing) delivery' });
    await scenario.processes.kill('intake', 0, 'SIGKILL');
    await sleep(scenario.between(300, 1_000));
    await scenario.processes.restart('intake', 0);
    failing = false;

    await waitFor(async () => receiver.unique().length >= 10, { timeoutMs: 60_000, what: 'deliveries to flow' });
    await scenario.processes.kill('intake', 0, 'SIGKILL');
    await sleep(scenario.between(300, 1_000));
    await scenario.processes.restart('intake', 0);
    await workload.done;

    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf() });
    expect(report.violations).toEqual([]);
    const finished = await waitFor(async () => receiver.unique().length >= workload.ackedCount && receiver.unique(), {
      timeoutMs: 120_000,
      what: 'a mission.finished per mission',
    });
    const missionIds = finished.map((webhook) => String(webhook.message.data.missionId));
    expect(new Set(missionIds).size).toBe(missionIds.length);
    expect([...missionIds].sort()).toEqual([...workload.ackedIds].sort());
    expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);
    scenario.note(
      `${receiver.received.length} requests for ${missionIds.length} missions (${receiver.received.length - missionIds.length} retries or repeats)`,
    );
    expect(scenario.processes.crashes).toEqual([]);
  }, 300_000);
});
