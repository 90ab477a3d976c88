import { rebuildReadModels } from '@app/audit';
import { MISSION_HASH_FIELDS } from '@app/event-store';
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
   * Runs `sweep` with `replay rebuild` run (its result matching `rebuilt`) as soon as the sweep's
   * transition of the mission comes out `outcome` (the mission found missing, or with nothing to
   * do), before the sweep forgets the mission's entry. Returns what the sweep returned.
   */
  async function sweptWhileRebuiltOn(missionId: string, outcome: 'not_found' | 'skipped', rebuilt: object, sweep: () => Promise<number>): Promise<number> {
    const pipeline = system.intake.get(MissionPipeline);
    const transition = pipeline.transition.bind(pipeline);
    let ran = false;
    const rebuildOnOutcome = jest.spyOn(pipeline, 'transition').mockImplementation(async (...args) => {
      const result = await transition(...args);
      if (args[0] === missionId && result.kind === outcome && !ran) {
        ran = true;
        expect(await rebuildReadModels(system.redis, system.keys)).toMatchObject(rebuilt);
      }
      return result;
    });
    try {
      return await sweep();
    } finally {
      rebuildOnOutcome.mockRestore();
      expect(ran).toBe(true);
    }
  }

  /**
   * Deletes the mission's hash by hand, then runs `sweep` with `replay rebuild` run as soon as the
   * sweep has found the mission missing, before it forgets the mission's entry.
   */
  async function sweptWhileRebuilt(missionId: string, sweep: () => Promise<number>): Promise<void> {
    await system.redis.del(system.keys.mission(missionId));
    expect(await sweptWhileRebuiltOn(missionId, 'not_found', { restored: 1 }, sweep)).toBe(0);
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

  /**
   * A later start due at `notBefore` whose `s` and `st` are then edited by hand to say it was
   * cancelled, its version as it is: drift `replay rebuild` switches back.
   */
  async function laterStartEditedToCancelled(notBefore: Date): Promise<{ missionId: string; delayed: string; due: string | null }> {
    const created: Mission = (await system.api.post('/api/missions').send(preArrival(notBefore)).expect(201)).body;
    const delayed = system.keys.of(created.id).scheduled('delayed');
    const due = await system.redis.zscore(delayed, created.id);
    const key = system.keys.mission(created.id);
    const state = JSON.parse((await system.redis.hget(key, MISSION_HASH_FIELDS.state)) ?? '{}') as Mission;
    await system.redis.hset(key, MISSION_HASH_FIELDS.state, JSON.stringify({ ...state, status: 'cancelled' }), MISSION_HASH_FIELDS.status, 'cancelled');
    return { missionId: created.id, delayed, due };
  }

  /** The due sweep at `notBefore` queues the mission (missions of the tests before, retried by now, are due too). */
  async function queuedOnceDue(missionId: string, notBefore: Date): Promise<void> {
    await system.intake.get(TimeWatchService).sweepDue(notBefore);
    expect(await system.store.history(missionId)).toContainEqual(
      expect.objectContaining({ type: 'MissionQueued', data: expect.objectContaining({ reason: 'due' }) }),
    );
  }

  // A mission whose `s` (and `st`) was edited to a status it does not have, at its version, is
  // found by a sweep with nothing to do; `replay rebuild` switches its state back but keeps its
  // version, and restored no timed entry of a mission whose hash was there: the forget, checking
  // the version alone, dropped the entry (landing after the switch), and a sweep that dropped it
  // before the rebuild lost it too. Either way the later start was never queued, and a second
  // rebuild found the mission unchanged.
  it('given a later start whose s was edited to cancelled, when replay rebuild switches it back while the due sweep forgets its entry, then the entry stays and the mission is queued once due', async () => {
    const notBefore = new Date(Date.now() + 3_600_000);
    const { missionId, delayed, due } = await laterStartEditedToCancelled(notBefore);

    // Missions of the tests before, retried by now, are due too: this one is judged by its own entry and history.
    await sweptWhileRebuiltOn(missionId, 'skipped', { switched: 1, restored: 0 }, () => system.intake.get(TimeWatchService).sweepDue(notBefore));

    expect(await system.redis.zscore(delayed, missionId)).toBe(due);
    await queuedOnceDue(missionId, notBefore);
  });

  it('given a later start whose s was edited to cancelled and whose entry the due sweep forgot, when replay rebuild switches it back, then it writes the entry again and the mission is queued once due', async () => {
    const notBefore = new Date(Date.now() + 3_600_000);
    const { missionId, delayed, due } = await laterStartEditedToCancelled(notBefore);

    await system.intake.get(TimeWatchService).sweepDue(notBefore);
    expect(await system.redis.zscore(delayed, missionId)).toBeNull();
    expect(await rebuildReadModels(system.redis, system.keys)).toMatchObject({ switched: 1, restored: 0, effectsRestored: 1 });

    expect(await system.redis.zscore(delayed, missionId)).toBe(due);
    await queuedOnceDue(missionId, notBefore);
  });
});
