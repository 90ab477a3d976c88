import * as path from 'node:path';
import { waitFor } from '@app/testing';
import { BUILD_TIMEOUT_MS, buildOnce, Scenario, SERVICES, sleep, Workload } from './support';
import { REPO_ROOT } from './support/build';
import { readHistories } from './support/outcome';

const MISSIONS = 300;
/** FAULT_API_KEYS' operator: operators may review. */
const OPERATOR_KEY = 'faults-operator-secret-0001';

/**
 * Human review while services die: with the hotel's review policy, guest replies and some pricing
 * and safety results wait in the review inbox. While they wait, each service is killed with
 * SIGKILL in turn and started again; then a reviewer approves everything in the inbox. No mission
 * waiting for review may be lost, and each must finish exactly once, approved once.
 */
describe('fault: kill -9 of each service while missions wait for review', () => {
  const scenario = new Scenario('review-kill9', { env: { REVIEW_POLICY_FILE: path.join(REPO_ROOT, 'fixtures', 'review-policy.yaml') } });

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  const api = (route: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${scenario.processes.port('intake', 0)}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    });
  /** Approves what the inbox holds now; a mission another approval (or a restart) got to first answers 409. */
  const approveInbox = async (): Promise<number> => {
    const response = await api('/api/reviews?limit=100');
    if (response.status !== 200) return 0;
    const { items } = (await response.json()) as { items: { id: string }[] };
    const answers = await Promise.all(items.map((item) => api(`/api/missions/${item.id}/approve`, { method: 'POST', body: '{"note":"ok"}' })));
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    return answers.filter((answer) => answer.status === 200).length;
  };
  const inboxSize = async () => Number(((await (await api('/api/missions/queue/stats')).json()) as { awaitingReview: number }).awaitingReview);

  it(`given ${MISSIONS} missions, when every service is killed -9 while results wait for review, then none is lost and each is approved and finished once`, async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: MISSIONS, batchSize: 30, intervalMs: 300, tag: 'review' }).start();
    await waitFor(async () => (await inboxSize()) >= 20, { timeoutMs: 60_000, what: '20 results waiting for review' });

    for (const service of SERVICES) {
      await scenario.processes.kill(service, 0, 'SIGKILL');
      await sleep(scenario.between(300, 1_000));
      await scenario.processes.restart(service, 0);
      scenario.note(`killed ${service} with ${await inboxSize()} results waiting for review, restarted`);
    }
    await workload.done;
    expect(workload.errors).toEqual([]);

    let approved = 0;
    await waitFor(
      async () => {
        approved += await approveInbox();
        const finished = await Promise.all(workload.ackedIds.map((id) => scenario.redis.hget(scenario.keys.mission(id), 'st')));
        return finished.every((status) => status === 'succeeded' || status === 'dead_lettered');
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'every mission approved or finished' },
    );
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 60_000, expected: workload.expectedOf() });
    scenario.summarize(report, { approved });

    expect(approved).toBeGreaterThanOrEqual(20);
    expect(workload.ackedCount).toBe(MISSIONS);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
    // Each held result was asked for once and approved once; none skipped review or was approved twice.
    const histories = await readHistories(scenario.redis, scenario.keys);
    const reviewProblems = workload.ackedIds.flatMap((id) => {
      const types = (histories.get(id) ?? []).map((event) => event.type);
      const asked = types.filter((type) => type === 'MissionReviewRequested').length;
      const approvals = types.filter((type) => type === 'MissionApproved').length;
      return asked === approvals && approvals <= 1 ? [] : [`${id}: ${asked} reviews asked for, ${approvals} approvals`];
    });
    expect(reviewProblems).toEqual([]);
    expect([...histories.values()].filter((events) => events.some((event) => event.type === 'MissionApproved')).length).toBe(approved);
  }, 400_000);
});
