import type Redis from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { DEFAULT_IMPORT_QUEUE_ORDER, sha1Hex } from '@app/audit';
import type { KeyLayout } from '@app/event-store';
import { envelopesOf, MISSION_HASH_FIELDS as F, MissionStore, storedEventLine } from '@app/event-store';
import {
  Decision,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideEvaluate,
  decideFail,
  decideRequeue,
  decideRetry,
  decideStart,
  evolve,
  Evaluation,
  MissionResult,
  NewMissionEvent,
  MISSION_TYPES,
  PRIORITY_LEVELS,
} from '@app/mission';
import type { Mission } from '@app/mission';
import { queueKey } from '@app/mission-queue';
import { restoreMissionEffects } from '@app/pipeline';
import { execAll } from '@app/redis';

/**
 * The synthetic event log, one writer for the bench's rebuild phase and `npm run audit:bench`
 * (scripts/make-audit-log.ts): missions × 8 events on average (successes, retries, dead-letter
 * and requeue, cancellations), stored JSON with correct hash chains computed here, XADD pipelines
 * of 5,000, and the read model an append would leave — so verify finds nothing and rebuild has
 * nothing to repair. Much faster than appending through the Lua script, and the same log each run.
 */

/** Events per pipeline while writing. */
const WRITE_BATCH = 5_000;
/** Missions whose events interleave in the log, as concurrent work does. */
const INTERLEAVE = 1_000;
const START = Date.parse('2025-06-01T00:00:00.000Z');

type Step = { actor: string; decide: (mission: Mission) => Decision };

const result = (attempt: number): MissionResult => ({
  output: { reply: `Attempt ${attempt}: the guest's request is confirmed; housekeeping and the front desk are informed. Schönen Aufenthalt!` },
  model: 'mock-model',
  latencyMs: 900 + attempt * 150,
  usage: { promptTokens: 420, completionTokens: 96 },
  costUsd: 0.00042,
});

const evaluation = (attempt: number, passed: boolean): Evaluation => ({
  attempt,
  score: passed ? 0.91 : 0.42,
  passed,
  criteria: [
    { criterion: 'answers_request', weight: 0.6, score: passed ? 0.95 : 0.4 },
    { criterion: 'tone', weight: 0.4, score: passed ? 0.85 : 0.45 },
  ],
  reason: passed ? 'answers the request and stays polite' : 'does not confirm a time for the guest',
  rubricVersion: 'guest_support@1',
  judge: 'rules',
});

/** Four histories after creation (2 events): 6, 10, 8 and 8 events in all, so 8 on average. */
const HISTORIES: Step[][] = [
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-lena') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, true)) },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-omar') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideFail(m, 1, 'LLM timeout after 30 s') },
    { actor: 'orchestrator', decide: (m) => decideRetry(m, 1, 3) },
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-lena') },
    { actor: 'executor', decide: (m) => decideStart(m, 2) },
    { actor: 'executor', decide: (m) => decideComplete(m, 2, result(2)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(2, true)) },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-zoe') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, false)) },
    { actor: 'evaluator', decide: (m) => decideRetry(m, 1, 1) },
    { actor: 'api-key:ops', decide: (m) => decideRequeue(m, 'prompt fixed') },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-omar') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, false)) },
    { actor: 'evaluator', decide: (m) => decideRetry(m, 1, 3) },
    { actor: 'api-key:front-desk', decide: (m) => decideCancel(m, 'guest checked out early') },
  ],
];

interface Building {
  id: string;
  state: Mission | null;
  hash: string;
  lastEventId: string;
  steps: Step[];
  next: number;
}

/** Appends `missions` missions' histories the way append-mission-events.lua stores them; returns the number of events. */
export async function writeSyntheticLog(redis: Redis, keys: KeyLayout, missions: number): Promise<number> {
  const [seconds] = await redis.time();
  const baseMs = Number(seconds) * 1000;
  let logHash = '';
  let seq = 0;
  let pipeline = redis.pipeline();
  let pending = 0;
  /** Log entry ids per mission since the last flush: one RPUSH per mission, not per event. */
  let listed = new Map<string, string[]>();
  const counts = new Map<string, number>();
  const queuedIds = new Set<string>();
  const flush = async () => {
    for (const [missionId, ids] of listed) pipeline.rpush(keys.missionEvents(missionId), ...ids);
    await execAll(pipeline);
    pipeline = redis.pipeline();
    listed = new Map();
    pending = 0;
  };

  const append = (mission: Building, events: NewMissionEvent[], actor: string) => {
    const at = new Date(START + seq * 20).toISOString();
    const correlationId = mission.state?.correlationId ?? uuidv7();
    const causationId = mission.lastEventId || correlationId;
    for (const envelope of envelopesOf(mission.id, mission.state?.version ?? 0, events, { at, actor, correlationId, causationId })) {
      const stored = storedEventLine(envelope, mission.hash, logHash);
      const logId = `${baseMs}-${seq++}`;
      pipeline.xadd(keys.partitions[0].log, logId, 'm', mission.id, 'e', stored);
      const ids = listed.get(mission.id);
      if (ids) ids.push(logId);
      else listed.set(mission.id, [logId]);
      if (envelope.version === 1) pipeline.zadd(keys.partitions[0].missionIndex, Date.parse(at), mission.id);
      mission.state = evolve(mission.state, envelope);
      mission.hash = sha1Hex(stored);
      mission.lastEventId = envelope.eventId;
      logHash = mission.hash;
      pending++;
    }
  };

  for (let first = 0; first < missions; first += INTERLEAVE) {
    const group: Building[] = [];
    for (let i = first; i < Math.min(first + INTERLEAVE, missions); i++) {
      const mission: Building = { id: `bench-${i}`, state: null, hash: '', lastEventId: '', steps: HISTORIES[i % HISTORIES.length], next: 0 };
      append(
        mission,
        decideCreate({
          type: MISSION_TYPES[i % MISSION_TYPES.length],
          title: `Guest request #${i}: late check-out and extra towels`,
          description: 'Guest in room 204 asks for a 14:00 check-out on departure day and two extra bath towels this evening.',
          priority: PRIORITY_LEVELS[i % PRIORITY_LEVELS.length],
          payload: {
            room: String(100 + (i % 400)),
            guest: { name: 'Anna Schmidt', vip: i % 7 === 0 },
            bookingRef: `SO-2026-${i}`,
            revenueAtStake: (i % 20) * 100,
          },
        }),
        'intake',
      );
      group.push(mission);
    }
    // Step through the group's histories in rounds, so the missions' events interleave.
    for (let active = group; active.length > 0; active = active.filter((m) => m.next < m.steps.length)) {
      for (const mission of active) {
        const step = mission.steps[mission.next++];
        const state = mission.state;
        if (!state) throw new Error(`${mission.id} has no state`);
        const decision = step.decide(state);
        if (decision.kind !== 'append') throw new Error(`${mission.id}: ${decision.reason}`);
        append(mission, decision.events, step.actor);
        if (pending >= WRITE_BATCH) await flush();
      }
    }
    for (const mission of group) {
      const state = mission.state;
      if (!state) continue;
      pipeline.hset(keys.mission(mission.id), {
        [F.version]: String(state.version),
        [F.status]: state.status,
        [F.state]: JSON.stringify(state),
        [F.lastEventHash]: mission.hash,
      });
      counts.set(state.status, (counts.get(state.status) ?? 0) + 1);
      if (state.status === 'queued') queuedIds.add(mission.id);
    }
    await flush();
  }
  pipeline.hset(keys.partitions[0].statusCounts, Object.fromEntries(counts));
  pipeline.set(keys.partitions[0].logHead, logHash);
  await flush();
  // The queued missions' effects (ready queue, their hashes' queue fields), as an import restores
  // them: without them every rebuild of this log found a quarter of its missions Unqueued and mended
  // them, which the bench then counted as the rebuild's own time.
  const queued = [...queuedIds];
  await restoreMissionEffects(redis, new MissionStore(redis, keys), queued, {
    queueScore: (mission, enqueuedAt) => queueKey(mission, enqueuedAt, DEFAULT_IMPORT_QUEUE_ORDER),
  });
  return seq;
}
