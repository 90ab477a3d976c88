import * as fc from 'fast-check';
import { aCreateInput, aResult, anEvaluation, MissionHistory } from '@app/testing';
import { heldAgent } from './agent-hold';
import {
  Decision,
  decideApprove,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideDue,
  decideEvaluate,
  decideFail,
  decideReject,
  decideRequeue,
  decideRetry,
  decideReviewOverdue,
  decideStart,
  decideVerdict,
  attemptsSinceRequeue,
} from './decide';
import { canTransition, IllegalTransitionError, isTerminal } from './lifecycle';
import { Mission } from './mission-state';
import { MISSION_STATUSES } from './mission-status';

/**
 * A command as a handler would receive it; `delta` shifts the attempt it names (0 = current, ±1 = stale/future).
 * `step` is the natural next command for whatever state the mission is in (so sequences reach deep states);
 * `choice` picks between the branches (fail or complete, pass or fail, requeue or cancel).
 */
type Command =
  | { kind: 'step'; choice: number }
  | { kind: 'assign'; agent: number }
  | { kind: 'start'; delta: number }
  | { kind: 'complete'; delta: number }
  | { kind: 'fail'; delta: number }
  | { kind: 'evaluate'; passed: boolean; delta: number }
  | { kind: 'retry'; delta: number; backoff?: boolean }
  | { kind: 'due' }
  | { kind: 'cancel' }
  | { kind: 'requeue' }
  /** A passing verdict the review policy holds for a reviewer. */
  | { kind: 'verdict-for-review' }
  | { kind: 'approve'; edited: boolean }
  | { kind: 'reject' }
  | { kind: 'overdue' };

const delta = fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(-1, 1), weight: 1 });

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 3 }).map((choice): Command => ({ kind: 'step', choice })), weight: 40 },
  { arbitrary: fc.integer({ min: 1, max: 4 }).map((agent): Command => ({ kind: 'assign', agent })), weight: 4 },
  { arbitrary: delta.map((d): Command => ({ kind: 'start', delta: d })), weight: 4 },
  { arbitrary: delta.map((d): Command => ({ kind: 'complete', delta: d })), weight: 4 },
  { arbitrary: delta.map((d): Command => ({ kind: 'fail', delta: d })), weight: 2 },
  { arbitrary: fc.tuple(fc.boolean(), delta).map(([passed, d]): Command => ({ kind: 'evaluate', passed, delta: d })), weight: 4 },
  { arbitrary: fc.tuple(delta, fc.boolean()).map(([d, backoff]): Command => ({ kind: 'retry', delta: d, backoff })), weight: 4 },
  { arbitrary: fc.constant<Command>({ kind: 'due' }), weight: 2 },
  { arbitrary: fc.constant<Command>({ kind: 'cancel' }), weight: 1 },
  { arbitrary: fc.constant<Command>({ kind: 'requeue' }), weight: 2 },
  { arbitrary: fc.constant<Command>({ kind: 'verdict-for-review' }), weight: 2 },
  { arbitrary: fc.boolean().map((edited): Command => ({ kind: 'approve', edited })), weight: 2 },
  { arbitrary: fc.constant<Command>({ kind: 'reject' }), weight: 2 },
  { arbitrary: fc.constant<Command>({ kind: 'overdue' }), weight: 1 },
);

const scenario = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  maxReviewRounds: fc.integer({ min: 1, max: 3 }),
  commands: fc.array(command, { minLength: 1, maxLength: 60 }),
});

interface Scenario {
  maxAttempts: number;
  maxReviewRounds: number;
  commands: Command[];
}

const REVIEW_TIMEOUT_MS = 60_000;

const assign1: Command = { kind: 'assign', agent: 1 };
const start0: Command = { kind: 'start', delta: 0 };
const complete0: Command = { kind: 'complete', delta: 0 };
const fail0: Command = { kind: 'fail', delta: 0 };
const retry0: Command = { kind: 'retry', delta: 0 };
const evaluateFail0: Command = { kind: 'evaluate', passed: false, delta: 0 };
const forReview: Command = { kind: 'verdict-for-review' };
const reject: Command = { kind: 'reject' };

/** Hand-written scenarios fast-check always runs before the random ones. */
const EXAMPLES: Record<string, Scenario> = {
  happy: { maxAttempts: 3, maxReviewRounds: 2, commands: [assign1, start0, complete0, { kind: 'evaluate', passed: true, delta: 0 }, { kind: 'cancel' }] },
  retryThenDeadLetter: {
    maxAttempts: 2,
    maxReviewRounds: 2,
    commands: [assign1, start0, complete0, evaluateFail0, retry0, assign1, fail0, retry0, { kind: 'requeue' }, assign1],
  },
  cancelDeadLettered: { maxAttempts: 1, maxReviewRounds: 2, commands: [assign1, fail0, retry0, { kind: 'cancel' }] },
  rerunAfterRequeue: {
    maxAttempts: 1,
    maxReviewRounds: 2,
    commands: [assign1, start0, complete0, evaluateFail0, retry0, { kind: 'requeue' }, assign1, start0, complete0],
  },
  secondAttemptAssigned: { maxAttempts: 2, maxReviewRounds: 2, commands: [assign1, fail0, retry0, assign1] },
  rejectedUntilDeadLettered: {
    maxAttempts: 1,
    maxReviewRounds: 2,
    commands: [
      ...[assign1, start0, complete0, forReview, { kind: 'overdue' }, reject, assign1, start0, complete0, forReview, reject],
      ...[{ kind: 'requeue' }, assign1, start0, complete0, forReview, { kind: 'approve', edited: true }],
    ] as Command[],
  },
};
const examples: [Scenario][] = Object.values(EXAMPLES).map((example) => [example]);

function decide(history: MissionHistory, cmd: Command, maxAttempts: number, maxReviewRounds = 2): Decision {
  const mission = history.mission;
  switch (cmd.kind) {
    case 'step':
      return decide(history, nextStep(history, cmd.choice), maxAttempts, maxReviewRounds);
    case 'assign':
      return decideAssign(mission, `agent-${cmd.agent}`);
    case 'start':
      return decideStart(mission, mission.attempts + cmd.delta);
    case 'complete':
      return decideComplete(mission, mission.attempts + cmd.delta, aResult());
    case 'fail':
      return decideFail(mission, mission.attempts + cmd.delta, 'execution failed');
    case 'evaluate':
      return decideEvaluate(mission, anEvaluation(mission.attempts + cmd.delta, cmd.passed));
    case 'retry':
      return decideRetry(mission, mission.attempts + cmd.delta, maxAttempts, cmd.backoff ? { backoff: { baseMs: 1_000, maxMs: 8_000, now: new Date() } } : {});
    case 'due':
      return decideDue(mission, new Date(Date.now() + 3_600_000));
    case 'cancel':
      return decideCancel(mission, 'cancelled by test');
    case 'requeue':
      return decideRequeue(mission, 'requeued by test');
    case 'verdict-for-review':
      return decideVerdict(mission, anEvaluation(mission.attempts, true), maxAttempts, { reviewRule: 'every-reply' });
    case 'approve':
      return decideApprove(mission, cmd.edited ? { note: 'edited', output: { reply: 'edited by a reviewer' } } : {});
    case 'reject':
      return decideReject(mission, 'say it more kindly', maxReviewRounds);
    case 'overdue': {
      const requestedAt = Date.parse(mission.review?.requestedAt ?? mission.updatedAt);
      return decideReviewOverdue(mission, new Date(requestedAt + REVIEW_TIMEOUT_MS), REVIEW_TIMEOUT_MS);
    }
  }
}

function nextStep(history: MissionHistory, choice: number): Command {
  const mission = history.mission;
  const last = history.events[history.events.length - 1];
  const failedHere = last.type === 'MissionFailed' || (last.type === 'MissionEvaluated' && !last.data.passed);
  if (failedHere) return { kind: 'retry', delta: 0, backoff: choice % 2 === 0 };
  switch (mission.status) {
    case 'created':
    case 'queued':
      return { kind: 'assign', agent: choice + 1 };
    case 'scheduled':
      return choice === 3 ? { kind: 'cancel' } : { kind: 'due' };
    case 'assigned':
      return choice === 0 ? { kind: 'fail', delta: 0 } : { kind: 'start', delta: 0 };
    case 'running':
      return choice <= 1 ? { kind: 'complete', delta: 0 } : { kind: 'fail', delta: 0 };
    case 'evaluating':
      return choice >= 2 ? { kind: 'verdict-for-review' } : { kind: 'evaluate', passed: choice === 0, delta: 0 };
    case 'awaiting_review':
      return choice === 0
        ? { kind: 'approve', edited: false }
        : choice === 1
          ? { kind: 'approve', edited: true }
          : choice === 2
            ? { kind: 'reject' }
            : { kind: 'overdue' };
    case 'dead_lettered':
      return choice <= 2 ? { kind: 'requeue' } : { kind: 'cancel' };
    case 'succeeded':
    case 'cancelled':
      return { kind: 'cancel' };
  }
}

function newMission(): MissionHistory {
  const history = new MissionHistory();
  history.append(decideCreate(aCreateInput()));
  return history;
}

/** What the store would do when evolve rejects a decided event: keep nothing. Returns the error, if any. */
function tryAppend(history: MissionHistory, decision: Decision): IllegalTransitionError | undefined {
  if (decision.kind === 'skip') return undefined;
  try {
    history.append(decision.events);
    return undefined;
  } catch (error) {
    if (error instanceof IllegalTransitionError) return error;
    throw error;
  }
}

describe('mission lifecycle properties (random command sequences through decide + evolve)', () => {
  test('given any command sequence, when every decision is folded, then evolve never rejects an event decide produced', () => {
    fc.assert(
      fc.property(scenario, ({ maxAttempts, maxReviewRounds, commands }) => {
        const history = newMission();
        for (const cmd of commands) {
          const before = history.mission.status;
          const error = tryAppend(history, decide(history, cmd, maxAttempts, maxReviewRounds));
          if (error) throw new Error(`decide produced an event evolve rejects: ${cmd.kind} on a ${before} mission -> ${error.message}`);
        }
      }),
      { numRuns: 1000, examples },
    );
  });

  test('given any command sequence, when applied, then status, versions, attempts and terminal states stay consistent', () => {
    fc.assert(
      fc.property(scenario, ({ maxAttempts, maxReviewRounds, commands }) => {
        const history = newMission();
        for (const cmd of commands) {
          const before = history.mission;
          const decision = decide(history, cmd, maxAttempts, maxReviewRounds);

          if (isTerminal(before.status)) {
            // A terminal mission never changes again.
            expect(decision.kind).toBe('skip');
            expect(history.mission).toBe(before);
            continue;
          }

          tryAppend(history, decision);
          const after = history.mission;

          // Never an illegal state.
          expect(MISSION_STATUSES).toContain(after.status);
          expect(after.status).not.toBe('created');
          if (after.status !== before.status) expect(canTransition(before.status, after.status)).toBe(true);

          // Versions contiguous from 1; the mission's version is the last one.
          const versions = history.events.map((e) => e.version);
          expect(versions).toEqual(versions.map((_, i) => i + 1));
          expect(after.version).toBe(history.events.length);
          expect(after.createdAt).toBe(history.events[0].at);
          expect(after.updatedAt).toBe(history.events[history.events.length - 1].at);

          // Attempts since the last requeue within 0..maxAttempts; an assignment is always the next attempt of the mission's life.
          expect(attemptsSinceRequeue(after)).toBeGreaterThanOrEqual(0);
          expect(attemptsSinceRequeue(after)).toBeLessThanOrEqual(maxAttempts);
          if (decision.kind === 'append' && decision.events[0].type === 'MissionAssigned') {
            expect(before.status).toBe('queued');
            expect(after.attempts).toBe(before.attempts + 1);
          }

          // A review holds no agent slot (it went back with the verdict), and its rounds stay within the limit.
          if (after.status === 'awaiting_review') expect(heldAgent(after)).toBeNull();
          expect(after.reviewRounds ?? 0).toBeLessThanOrEqual(maxReviewRounds);

          // Dead-lettering happens only once maxAttempts were used since the last requeue or rejection, or after the last review round.
          if (after.status === 'dead_lettered' && before.status === 'awaiting_review') {
            expect(after.reviewRounds).toBe(maxReviewRounds);
          } else if (after.status === 'dead_lettered' && before.status !== 'dead_lettered') {
            expect(attemptsSinceRequeue(after)).toBe(maxAttempts);
            // The dead-letter records the attempts of the mission's whole life.
            expect(history.events[history.events.length - 1].data).toMatchObject({ attempts: after.attempts });
          }

          // Skips change nothing.
          if (decision.kind === 'skip') expect(after).toBe(before);
        }

        // Attempt numbers are never reused, requeues or not: the assignments count 1, 2, 3, … over the whole life.
        const assigned = history.events.flatMap((event) => (event.type === 'MissionAssigned' ? [event.data.attempt] : []));
        expect(assigned).toEqual(assigned.map((_, i) => i + 1));

        // Every review is decided at most once and found overdue at most once.
        const reviewed = history.events.flatMap((event) => (event.type === 'MissionApproved' || event.type === 'MissionRejected' ? [event.data.attempt] : []));
        expect(new Set(reviewed).size).toBe(reviewed.length);
        const overdue = history.events.flatMap((event) => (event.type === 'MissionReviewOverdue' ? [event.data.attempt] : []));
        expect(new Set(overdue).size).toBe(overdue.length);
      }),
      { numRuns: 500, examples },
    );
  });

  /** Runs the commands and calls `probe` after each one with the mission and a model of its current attempt. */
  function runWithModel(
    maxAttempts: number,
    commands: readonly Command[],
    probe: (mission: Mission, model: { failed: boolean; evaluated: boolean }) => void,
  ): void {
    const history = newMission();
    // Model of the current attempt, kept from the events the test appended.
    const model = { failed: false, evaluated: false };
    for (const cmd of commands) {
      const seen = history.events.length;
      tryAppend(history, decide(history, cmd, maxAttempts));
      for (const event of history.events.slice(seen)) {
        if (event.type === 'MissionAssigned') {
          model.failed = false;
          model.evaluated = false;
        }
        if (event.type === 'MissionFailed') model.failed = true;
        // A result that arrives after a recorded failure puts the attempt under evaluation again.
        if (event.type === 'MissionCompleted') model.failed = false;
        if (event.type === 'MissionEvaluated') {
          model.evaluated = true;
          if (!event.data.passed) model.failed = true;
        }
      }
      probe(history.mission, model);
    }
  }

  test('given any command sequence, when a completed attempt has no verdict yet, then its evaluation is accepted', () => {
    fc.assert(
      fc.property(scenario, ({ maxAttempts, commands }) => {
        runWithModel(maxAttempts, commands, (mission, { evaluated }) => {
          if (mission.status !== 'evaluating' || evaluated) return;
          const probe = decideEvaluate(mission, anEvaluation(mission.attempts, true));
          expect({ status: mission.status, attempt: mission.attempts, decision: probe.kind }).toEqual({
            status: 'evaluating',
            attempt: mission.attempts,
            decision: 'append',
          });
        });
      }),
      { numRuns: 1000, examples },
    );
  });

  test('given any command sequence, when retry of the current attempt is asked, then it is decided exactly when that attempt failed', () => {
    fc.assert(
      fc.property(scenario, ({ maxAttempts, commands }) => {
        runWithModel(maxAttempts, commands, (mission, { failed }) => {
          const live = mission.status === 'assigned' || mission.status === 'running' || mission.status === 'evaluating';
          const retry = decideRetry(mission, mission.attempts, maxAttempts);
          expect({ status: mission.status, attempt: mission.attempts, failed, retry: retry.kind }).toEqual({
            status: mission.status,
            attempt: mission.attempts,
            failed,
            retry: live && failed ? 'append' : 'skip',
          });
        });
      }),
      { numRuns: 1000, examples },
    );
  });
});
