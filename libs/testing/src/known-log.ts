/**
 * Test fixture for the audit specs: a small, realistic event log appended through MissionPipeline,
 * with fixed clocks so times, versions and summaries are known exactly. Missions interleave in the
 * log as they would in production, and each append has the effects the services' appends have
 * (each assignment made on a lease of the ready queue, as the orchestrator makes it), so the read
 * model beside the log (the queue fields of a queued mission's hash, its place in the ready queue,
 * the dead letters) is the one a rebuild must leave alone.
 *
 *   m-ok      created, assigned to agent-lena, started, completed, evaluated 0.92 pass  → succeeded (v6)
 *   m-retry   attempt 1 fails, attempt 2 is evaluated fail, attempt 3 passes           → succeeded (v15)
 *   m-dead    completed, evaluated fail, dead-lettered (max 1 attempt)                 → dead_lettered (v7)
 *   m-cancel  assigned, then cancelled                                                  → cancelled (v4)
 *   m-wait    created only                                                              → queued (v2)
 *
 * Only specs import this (through @app/testing, which the build leaves out).
 */
import { randomBytes } from 'node:crypto';
import { Environment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import {
  Decision,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideEvaluate,
  decideFail,
  decideRetry,
  decideStart,
  Evaluation,
  Mission,
  MissionCreateDto,
  MissionResult,
} from '@app/mission';
import { queueOrderOf, ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';

/** Long enough for the assignment that follows a fixture's lease; Redis's clock sets it, as the append's lease check reads it. */
const KNOWN_LEASE_MS = 60_000;

export const KNOWN_START = new Date('2025-06-01T08:00:00.000Z');
export const KNOWN_STEP_MS = 60_000;

/** The clock of step n: KNOWN_START + n minutes. */
export function knownStepTime(step: number): Date {
  return new Date(KNOWN_START.getTime() + step * KNOWN_STEP_MS);
}

export const KNOWN_MISSIONS = {
  ok: 'm-ok',
  retry: 'm-retry',
  dead: 'm-dead',
  cancel: 'm-cancel',
  wait: 'm-wait',
} as const;

export const KNOWN_VERSIONS: Readonly<Record<string, number>> = { 'm-ok': 6, 'm-retry': 15, 'm-dead': 7, 'm-cancel': 4, 'm-wait': 2 };
export const KNOWN_EVENT_COUNT = 34;

export function aCreate(overrides: Partial<MissionCreateDto> = {}): MissionCreateDto {
  return {
    type: 'guest_support',
    title: 'Late check-out request',
    description: 'Guest in room 204 asks for a 14:00 check-out.',
    priority: 'normal',
    payload: { room: '204', guest: { name: 'Anna Schmidt' }, message: 'Wäre ein später Check-out möglich?' },
    ...overrides,
  };
}

function knownResult(reply = 'Late check-out until 14:00 is confirmed. Schönen Tag! ✓'): MissionResult {
  return { output: { reply }, model: 'mock-model', latencyMs: 1200, usage: { promptTokens: 310, completionTokens: 42 } };
}

function knownEvaluation(attempt: number, score: number, passed: boolean, reason: string, rubricVersion = 'guest_support@1'): Evaluation {
  return {
    attempt,
    score,
    passed,
    criteria: [
      { criterion: 'answers_request', weight: 0.6, score },
      { criterion: 'tone', weight: 0.4, score },
    ],
    reason,
    rubricVersion,
    judge: 'rules',
  };
}

export interface KnownLog {
  keys: KeyLayout;
  store: MissionStore;
  /** The final state of each mission, as the appends returned it. */
  missions: Map<string, Mission>;
}

/** Appends the known log under `keys` (which must be empty). */
export async function buildKnownLog(redis: RedisConnection, keys: KeyLayout): Promise<KnownLog> {
  const store = new MissionStore(redis, keys);
  // The deployment's default queue order, as rebuild and import score a queued mission by it.
  const queue = new ReadyQueue(redis, keys, queueOrderOf(new Environment()));
  const pipeline = new MissionPipeline(store, queue);
  const missions = new Map<string, Mission>();
  let step = 0;

  const create = async (id: string, input: MissionCreateDto): Promise<void> => {
    const now = knownStepTime(++step);
    const result = await pipeline.append(id, null, decideCreate(input, now), { actor: 'intake', now, correlationId: `corr-${id}` });
    if (result.code !== AppendCode.Ok) throw new Error(`create ${id}: code ${result.code}`);
    missions.set(id, result.mission);
  };
  // An assignment is made on a lease, as the orchestrator makes it: the lease takes the mission out
  // of the ready queue, which the MissionAssigned's own effects do not.
  const leaseOf = async (mission: Mission): Promise<string> => {
    const leaseId = `lease-${randomBytes(4).toString('hex')}`;
    const partition = keys.partitionOf(mission.id);
    const leased = await queue.lease(partition, 1, KNOWN_LEASE_MS, leaseId, { freeAgents: [{ free: 1, skills: mission.requiredSkills }] });
    if (leased[0]?.mission.id !== mission.id) throw new Error(`lease of ${mission.id}: got ${leased.map((l) => l.mission.id).join(', ') || 'none'}`);
    return leaseId;
  };
  const act = async (id: string, actor: string, decide: (mission: Mission) => Decision): Promise<void> => {
    const now = knownStepTime(++step);
    const mission = missions.get(id);
    if (!mission) throw new Error(`no mission ${id}`);
    const decision = decide(mission);
    if (decision.kind !== 'append') throw new Error(`${id}: ${decision.reason}`);
    const leaseId = decision.events.some((event) => event.type === 'MissionAssigned') ? await leaseOf(mission) : undefined;
    const result = await pipeline.append(id, mission, decision.events, { actor, now, leaseId });
    if (result.code !== AppendCode.Ok) throw new Error(`${id}: code ${result.code}`);
    missions.set(id, result.mission);
  };
  const { ok, retry, dead, cancel, wait } = KNOWN_MISSIONS;

  await create(ok, aCreate()); //                                                    step 1: m-ok v1, v2
  await create(retry, aCreate({ type: 'maintenance', title: 'Leaking tap in room 118', priority: 'high', payload: { room: '118' } })); // 2
  await create(dead, aCreate({ type: 'pricing', title: 'Weekend rate for suites', priority: 'low', payload: { roomType: 'suite' } })); // 3
  await act(ok, 'orchestrator', (m) => decideAssign(m, 'agent-lena')); //            step 4: m-ok v3
  await create(cancel, aCreate({ title: 'Extra towels for room 310', payload: { room: '310' } })); // 5
  await act(ok, 'executor', (m) => decideStart(m, 1)); //                            step 6: m-ok v4
  await act(retry, 'orchestrator', (m) => decideAssign(m, 'agent-omar')); //         7
  await act(ok, 'executor', (m) => decideComplete(m, 1, knownResult())); //              8: m-ok v5
  await act(retry, 'executor', (m) => decideStart(m, 1)); //                         9
  await act(ok, 'evaluator', (m) => decideEvaluate(m, knownEvaluation(1, 0.92, true, 'confirms the time, polite'))); // 10: m-ok v6
  await act(retry, 'executor', (m) => decideFail(m, 1, 'LLM timeout after 30 s')); // 11
  await act(dead, 'orchestrator', (m) => decideAssign(m, 'agent-lena')); //          12
  await act(retry, 'orchestrator', (m) => decideRetry(m, 1, 3)); //                  13
  await act(dead, 'executor', (m) => decideStart(m, 1)); //                          14
  await act(retry, 'orchestrator', (m) => decideAssign(m, 'agent-lena')); //         15
  await act(dead, 'executor', (m) => decideComplete(m, 1, knownResult('Suites at 420 EUR'))); // 16
  await act(cancel, 'orchestrator', (m) => decideAssign(m, 'agent-omar')); //        17
  await act(dead, 'evaluator', (m) => decideEvaluate(m, knownEvaluation(1, 0.31, false, 'no rate given per night', 'pricing@1'))); // 18
  await act(cancel, 'api-key:front-desk', (m) => decideCancel(m, 'guest checked out early')); // 19
  await act(retry, 'executor', (m) => decideStart(m, 2)); //                         20
  await act(dead, 'evaluator', (m) => decideRetry(m, 1, 1)); //                      21
  await act(retry, 'executor', (m) => decideComplete(m, 2, knownResult('Technician booked for 10:00'))); // 22
  await act(retry, 'evaluator', (m) => decideEvaluate(m, knownEvaluation(2, 0.55, false, 'does not say when the guest is told', 'maintenance@1'))); // 23
  await act(retry, 'evaluator', (m) => decideRetry(m, 2, 3)); //                     24
  await create(wait, aCreate({ title: 'Wake-up call for room 512', priority: 'critical', payload: { room: '512', vip: true } })); // 25
  await act(retry, 'orchestrator', (m) => decideAssign(m, 'agent-omar')); //         26
  await act(retry, 'executor', (m) => decideStart(m, 3)); //                         27
  await act(retry, 'executor', (m) => decideComplete(m, 3, knownResult('Technician booked for 10:00; guest informed at check-in'))); // 28
  await act(retry, 'evaluator', (m) => decideEvaluate(m, knownEvaluation(3, 0.88, true, 'booked and guest informed', 'maintenance@1'))); // 29
  return { keys, store, missions };
}
