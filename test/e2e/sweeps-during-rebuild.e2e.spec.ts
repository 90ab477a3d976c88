import { rebuildReadModels } from '@app/audit';
import { Mission, MissionCreateDto } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { FakeChatCompletionsServer, waitFor } from '@app/testing';
import { TimeWatchService } from '../../apps/intake/src/queue/time-watch.service';
import { ReviewDeadlineService } from '../../apps/intake/src/reviews/review-deadline.service';
import { agentOutput, socket } from '../support/held-for-review';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const preArrival = (notBefore: Date): MissionCreateDto => ({
  type: 'guest_support',
  title: 'Pre-arrival message whose mission hash is deleted by hand',
  description: 'Send the welcome message with parking directions the morning before arrival.',
  priority: 'normal',
  payload: { language: 'en', guest: { name: 'Ms. Martin' } },
  notBefore: notBefore.toISOString(),
});
const REVIEW_TIMEOUT_MS = 1_500;

// A mission whose hash was deleted by hand is found missing by a sweep, which then forgets its
// entry. `replay rebuild`, the remedy, runs with the system running: landing between the sweep's
// load and its forget, it wrote the mission back and its entry with it, at the same time, and the
// forget, which checked only the time, took that entry out. A second rebuild, finding the mission
// as it should be, did not put it back: the review was never found overdue, the later start never
// queued.
describe('the sweeps while replay rebuild writes back a mission whose hash was deleted (four services, real Redis)', () => {
  const llm = new FakeChatCompletionsServer();
  let system: InProcessSystem;

  beforeAll(async () => {
    const baseUrl = await llm.start();
    llm.fallback = () => ({ status: 200 as const, content: JSON.stringify(agentOutput) });
    system = await startInProcessSystem(
      'e2e-sweeps-rebuild',
      // The due sweep is driven by the test's clock; its own timer would find nothing due for an hour.
      {
        REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml',
        REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
        SCHEDULE_CHECK_MS: '60000',
        DEADLINE_CHECK_MS: '3600000',
      },
      { executor: { LLM_PROVIDER: 'openai', LLM_BASE_URL: baseUrl, LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'sk-test' } },
    );
  });
  afterAll(async () => {
    await system.close();
    await llm.stop();
  });

  /**
   * Deletes the mission's hash by hand, then runs `sweep` with `replay rebuild` run as soon as the
   * sweep has found the mission missing, before it forgets the mission's entry.
   */
  async function sweptWhileRebuilt(missionId: string, sweep: () => Promise<number>): Promise<void> {
    await system.redis.del(system.keys.mission(missionId));
    const pipeline = system.intake.get(MissionPipeline);
    const transition = pipeline.transition.bind(pipeline);
    let rebuilt = false;
    const rebuildOnNotFound = jest.spyOn(pipeline, 'transition').mockImplementation(async (...args) => {
      const outcome = await transition(...args);
      if (args[0] === missionId && outcome.kind === 'not_found' && !rebuilt) {
        rebuilt = true;
        expect(await rebuildReadModels(system.redis, system.keys)).toMatchObject({ restored: 1 });
      }
      return outcome;
    });
    try {
      expect(await sweep()).toBe(0);
    } finally {
      rebuildOnNotFound.mockRestore();
    }
    expect(rebuilt).toBe(true);
  }

  it('given a review whose mission hash was deleted, when replay rebuild writes it back while the review deadline sweep forgets its entry, then the entry stays and the review is found overdue', async () => {
    const sweeper = system.intake.get(ReviewDeadlineService);
    // Driven by the test alone, so that no run of its own finds the mission missing first.
    await sweeper.onModuleDestroy();
    try {
      const created = await system.api.post('/api/missions').send(socket('Socket whose mission hash is deleted by hand')).expect(201);
      const mission = await waitFor(
        async () => {
          const loaded = await system.store.load(created.body.id);
          return loaded?.status === 'awaiting_review' ? loaded : null;
        },
        { timeoutMs: 20_000, what: `mission ${created.body.id} to await review` },
      );
      const deadlines = system.keys.of(mission.id).reviewDeadlines;
      const due = await system.redis.zscore(deadlines, mission.id);
      const overdueAt = new Date(Date.parse(mission.review?.requestedAt ?? '') + REVIEW_TIMEOUT_MS);

      await sweptWhileRebuilt(mission.id, () => sweeper.sweep(overdueAt));

      expect(await system.redis.zscore(deadlines, mission.id)).toBe(due);
      expect(await sweeper.sweep(overdueAt)).toBe(1);
      expect((await system.store.history(mission.id)).map((event) => event.type)).toContain('MissionReviewOverdue');
      expect((await system.store.load(mission.id))?.review?.overdueAt).toBeDefined();
    } finally {
      sweeper.onApplicationBootstrap();
    }
  });

  it('given a later start whose mission hash was deleted, when replay rebuild writes it back while the due sweep forgets its entry, then the entry stays and the mission is queued once due', async () => {
    const notBefore = new Date(Date.now() + 3_600_000);
    const created: Mission = (await system.api.post('/api/missions').send(preArrival(notBefore)).expect(201)).body;
    const delayed = system.keys.of(created.id).scheduled('delayed');
    const due = await system.redis.zscore(delayed, created.id);
    const watch = system.intake.get(TimeWatchService);

    await sweptWhileRebuilt(created.id, () => watch.sweepDue(notBefore));

    expect(await system.redis.zscore(delayed, created.id)).toBe(due);
    expect(await watch.sweepDue(notBefore)).toBe(1);
    expect(await system.store.history(created.id)).toContainEqual(
      expect.objectContaining({ type: 'MissionQueued', data: expect.objectContaining({ reason: 'due' }) }),
    );
  });
});
