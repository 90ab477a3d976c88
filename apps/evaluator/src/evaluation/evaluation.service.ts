import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import { Environment } from '@app/config';
import { LlmJudge, permanentFailure, RuleBasedJudge, Verdict } from '@app/evaluation';
import { MissionStore, TransitionOutcome } from '@app/event-store';
import { GuestDataError, MissionPersonalData } from '@app/guest-data';
import { LlmError } from '@app/llm';
import { billedFor, decideJudged, Evaluation, Judged, Mission, NOT_JUDGED, ReviewPolicy, reviewRuleFor, SERVICE_ACTORS, staleEvaluation } from '@app/mission';
import { logDeadLetter, MissionPipeline, retryBackoff } from '@app/pipeline';
import { untilRedisTakes } from '@app/redis';
import { HandBackError } from '@app/redis-streams';
import { ENVIRONMENT } from '@app/runtime';
import { EvaluationMetrics } from './evaluation-metrics';

/** The review policy the evaluator applies to passing results (REVIEW_POLICY_FILE). */
export const REVIEW_POLICY = Symbol('REVIEW_POLICY');

/**
 * Judges a completed attempt: a pass → succeeded, or awaiting_review when the review policy asks
 * for a reviewer; a fail → the next attempt after its backoff, or the mission dead-lettered once
 * MAX_ATTEMPTS are used (at once when its own constraints make every attempt fail, see
 * permanentFailure), in the same step as the verdict.
 */
@Injectable()
export class EvaluationService implements OnModuleDestroy {
  /** Aborted when shutdown begins: the LLM judge's call ends, and an append of a billed judge call that Redis refuses is no longer retried (judgedAppend). */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly store: MissionStore,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly rules: RuleBasedJudge,
    @Optional() @Inject(LlmJudge) private readonly llmJudge: LlmJudge | null,
    @InjectPinoLogger(EvaluationService.name) private readonly logger: PinoLogger,
    private readonly metrics: EvaluationMetrics,
    @Inject(REVIEW_POLICY) private readonly reviewPolicy: ReviewPolicy,
    private readonly personal: MissionPersonalData,
  ) {}

  /**
   * Runs before the stream consumer's close, which waits for the handlers in hand while Redis is
   * reachable: one retrying an append Redis keeps refusing (out of memory) would hold it for as
   * long. The evaluator has no shutdown grace of its own, so its retries end as shutdown begins;
   * the message stays pending and is judged again where it is reclaimed, as before the retries.
   */
  onModuleDestroy(): void {
    this.shutdown.abort();
  }

  /** The LLM judge when configured; the rules when it is not, or when the LLM cannot answer. */
  private async judge(mission: Mission): Promise<Verdict> {
    const output = mission.result?.output ?? {};
    if (!this.llmJudge) return this.rules.judge(mission, output);
    try {
      return await this.llmJudge.judge(mission, output, this.shutdown.signal);
    } catch (error) {
      // A stop ends the call, which held the stop for up to the judge's timeout and retries: the
      // message is judged again where it is reclaimed, by the model, not by the rules here. Unless
      // the provider billed a reply first: that is recorded with the rules' verdict, as below.
      const billed = error instanceof LlmError ? error.billed : undefined;
      if (this.shutdown.signal.aborted && !billed)
        throw new HandBackError('the evaluator is shutting down: its judge call was abandoned, and the message handed back');
      const why = error instanceof Error ? error.message : String(error);
      this.logger.warn({ missionId: mission.id, correlationId: mission.correlationId, error: why }, 'LLM judge failed; judging by the rules');
      const verdict = this.rules.judge(mission, output);
      // A reply the provider billed but the judge could not use was paid for all the same.
      return { ...verdict, judge: 'rules (LLM judge failed)', ...(billed ? billedFor(billed) : {}) };
    }
  }

  /**
   * Judges the completed attempt and records the verdict. A `redelivered` message (its first
   * delivery's evaluator died before the ack) is checked against the stored mission first: when
   * its verdict was recorded then, the judge is not asked again. With the LLM judge every message
   * is: a call the provider bills is not made for a mission cancelled (or its attempt judged)
   * while the message waited, at the price of one read per mission; the rules cost less than it.
   */
  async evaluate(completed: Mission, { redelivered = false }: { redelivered?: boolean } = {}): Promise<void> {
    const attempt = completed.attempts;
    if (redelivered || this.llmJudge) {
      const current = await this.pipeline.load(completed.id);
      if (!current || staleEvaluation(current, attempt)) return;
    }
    // The judge and the review rules read the guest's words and the reply; they stay in memory.
    let plain: Mission;
    try {
      plain = await this.personal.openMission(completed);
    } catch (error) {
      // A field that fails authentication (or another master key's) fails the same at every
      // redelivery: thrown, the message would end in the poison stream and the mission stay
      // evaluating with its agent's slot. The attempt fails instead, and the retry rules go on.
      if (!(error instanceof GuestDataError)) throw error;
      return this.record(completed, unjudgeable(attempt, error.message));
    }
    const verdict = await this.judge(plain);
    // A billed judge call is named, so that it is recorded once: by its verdict, or else as billed late (judgedAppend).
    const evaluation: Evaluation = { attempt, ...verdict, ...(verdict.usage ? { runId: uuidv7() } : {}) };
    const output = plain.result?.output ?? {};
    const reviewRule = verdict.passed ? reviewRuleFor(this.reviewPolicy, { mission: plain, output, score: verdict.score }) : null;
    const permanent = verdict.passed ? null : permanentFailure(plain);
    await this.record(completed, evaluation, { reviewRule, ...(permanent ? { permanent } : {}) });
  }

  /**
   * Records a failed verdict no judge gave on the attempt `completed` stands for, unless it was
   * judged already: the evaluator could not handle its message at all (settleOnLastDelivery), and
   * the message will not come again.
   */
  async abandon(completed: Mission, reason: string): Promise<void> {
    await this.record(completed, unjudgeable(completed.attempts, reason));
  }

  /**
   * Appends the verdict with what follows it (success, review, the next attempt or the dead letters),
   * and counts it; a verdict the mission's state made moot records only the judge's billed call
   * (decideJudged), with the one append the verdict would have made: see judgedAppend.
   */
  private async record(completed: Mission, evaluation: Evaluation, options: { reviewRule?: string | null; permanent?: string } = {}): Promise<void> {
    const { attempt, runId } = evaluation;
    const agentId = completed.assignedAgentId ?? '';
    const outcome = await this.judgedAppend(completed, evaluation, agentId, options);
    const { id: missionId, correlationId } = completed;
    if (outcome.kind === 'appended' && outcome.events.some((event) => event.type === 'LateReplyBilled')) {
      const reason = staleEvaluation(outcome.mission, attempt);
      this.logger.info({ missionId, correlationId, attempt, runId, reason }, "judge's billed reply recorded");
      return;
    }
    const judged = evaluation.judge !== NOT_JUDGED;
    if (outcome.kind === 'appended') {
      this.metrics.verdicts.inc({ agent: agentId, type: completed.type, verdict: evaluation.passed ? 'pass' : judged ? 'fail' : 'not_judged' });
      if (judged) this.metrics.scores.observe({ agent: agentId }, evaluation.score);
      // A pass the review policy holds succeeds later, by the intake's approval: observed there.
      this.metrics.timeToSuccess.observe(outcome.mission);
    }
    if (outcome.kind === 'appended' && !evaluation.passed) {
      this.logger.info({ missionId, correlationId, attempt, agentId, score: evaluation.score, reason: evaluation.reason }, 'evaluation failed');
      if (outcome.mission.status === 'dead_lettered') logDeadLetter(this.logger, outcome.mission);
    }
  }

  /**
   * The one append a judging makes: its verdict, or, when the mission's state made the verdict moot
   * (cancelled while the judge thought, by a client or a subject's erasure, or the attempt judged
   * by another delivery), the LLM judge's billed call as LateReplyBilled, so the log, and the daily
   * report read from it, hold what the mission cost. They were two appends: the verdict's, then,
   * once it was found moot, the call's; an evaluator that died (or a Redis that refused) between
   * them lost the call for good, as the redelivered message finds the verdict moot and asks no
   * judge. Now the choice is made on the state the append expects (decideJudged), and the expected
   * version makes it atomic: a change that comes first fails the append, which decides again on it.
   * The script itself does not choose: it would have to fold LateReplyBilled into a state only it
   * has read, and the read model must be the very JSON evolve writes (the drift audit compares its
   * SHA-1 with a replay's), which a Lua re-encoding would not give (key order, number precision).
   * While Redis refuses the append for a reason that passes by itself (out of memory, unreachable)
   * it is tried again until Redis takes it, or shutdown begins (untilRedisTakes): the judge's reply
   * lives only in this process, and the failed handler's redelivered message would ask the judge
   * again, a second paid call, the first never recorded. A retry is safe as a conflict is: it
   * expects a version, and one meeting its own earlier try (reply lost) is told apart as below.
   * Only a billed call's append is retried: a verdict the rules gave (or no judge) costs nothing to
   * give again, and the redelivered message does so, without holding this handler through an outage.
   * What stays open: an evaluator that dies (or shuts down while Redis refuses) before this one
   * append took effect loses the call to the log.
   *
   * A billed call's verdict is therefore decided on the mission read after the judge answered, not
   * on the message's state: a cancel while the judge thought is then met by the first append, not
   * by a failed verdict and a second one (one read more per LLM verdict, next to a paid call). A
   * retry after a conflict may meet this judging's own verdict, appended by a try whose reply was
   * lost; once the mission has moved past it its state no longer says so, and the log after the
   * completion judged (`completed.version`) is read instead, so the call is not recorded twice.
   */
  private async judgedAppend(
    completed: Mission,
    evaluation: Evaluation,
    agentId: string,
    options: { reviewRule?: string | null; permanent?: string },
  ): Promise<TransitionOutcome> {
    const { runId } = evaluation;
    const billed = evaluation.usage !== undefined && runId !== undefined;
    const judged: Judged = { evaluation, agentId };
    const decide = (m: Mission) => decideJudged(m, judged, this.env.MAX_ATTEMPTS, { backoff: retryBackoff(this.env), ...options });
    if (!billed) return this.pipeline.transition(completed, decide, { actor: SERVICE_ACTORS.evaluator });
    const afterConflict = async (reloaded: Mission) => {
      // Still open to a verdict, or showing this one or its billing: the state tells, and the log need not be read.
      if (
        judged.verdictRecorded ||
        staleEvaluation(reloaded, evaluation.attempt) === null ||
        reloaded.evaluation?.runId === runId ||
        reloaded.lateBilledRuns?.includes(runId)
      )
        return;
      const own = await this.store.lastEventOfType(reloaded.id, 'MissionEvaluated', (event) => event.data.runId === runId, completed.version);
      judged.verdictRecorded = own !== null;
    };
    const { id: missionId, correlationId } = completed;
    // A retry starts from the completion judged, not from a fresh read: a refused try may have taken
    // effect (ioredis gave up on a command it had sent), and then the mission may have moved past
    // its verdict; any change since, that one included, meets a conflict and afterConflict.
    let tried = false;
    const append = () => {
      const start = tried ? completed : completed.id;
      tried = true;
      return this.pipeline.transition(start, decide, { actor: SERVICE_ACTORS.evaluator }, { afterConflict });
    };
    const { value: outcome, refusals } = await untilRedisTakes(append, {
      signal: this.shutdown.signal,
      firstRefusal: (error) =>
        this.logger.warn(
          { missionId, correlationId, attempt: evaluation.attempt, runId, err: error },
          'recording the judging failed; retrying until Redis takes it',
        ),
    });
    if (refusals > 0) this.logger.info({ missionId, correlationId, attempt: evaluation.attempt, runId, refusals }, 'judging recorded once Redis took it');
    return outcome;
  }
}

/** The failed verdict on an attempt no judge saw (its guest data could not be opened, or its message not handled). */
function unjudgeable(attempt: number, why: string): Evaluation {
  return { attempt, score: 0, passed: false, criteria: [], reason: `not judged: ${why}`, rubricVersion: 'none', judge: NOT_JUDGED };
}
