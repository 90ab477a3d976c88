import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import { AgentRegistry } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, readMissionFields, TransitionOutcome } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { buildLlmRequest, LLM_CLIENT, LlmClient, LlmError } from '@app/llm';
import {
  BilledAttempt,
  billedFor,
  decideComplete,
  decideFailure,
  decideLateReply,
  decideStart,
  LateReply,
  Mission,
  MissionResult,
  MissionType,
  SERVICE_ACTORS,
} from '@app/mission';
import { logDeadLetter, MissionPipeline, retryBackoff } from '@app/pipeline';
import { RedisConnection, settlesWhileReachable, untilRedisTakes } from '@app/redis';
import { HandBackError } from '@app/redis-streams';
import { ConsumerHealth, ENVIRONMENT, REDIS } from '@app/runtime';
import { AgentPromptCache } from './agent-prompt-cache';
import { ExecutionMetrics } from './execution-metrics';

const ACTOR = SERVICE_ACTORS.executor;
/** How often running missions are checked for a cancellation; bounds how long a cancelled call runs on. */
const CANCEL_CHECK_MS = 500;
const SHUT_DOWN = new Error('executor shut down during the attempt');

/**
 * What recording an attempt's outcome came to: the transition, or `recorded` when the append met
 * the outcome this run recorded itself, by a try whose reply was lost.
 */
type RecordOutcome = TransitionOutcome | { kind: 'recorded'; mission: Mission };

/** Runs an assigned mission as its agent through the LLM client and records the outcome. */
@Injectable()
export class ExecutionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly prompts: AgentPromptCache;
  /** Missions whose LLM call runs in this process, to abort them when they are cancelled. */
  private readonly running = new Map<string, AbortController>();
  private cancelCheck: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  /** Executions in progress (from their message to their last append). */
  private executing = 0;
  /** Called when the last execution ends, while shutdown waits for it. */
  private whenIdle: (() => void) | null = null;
  /** Aborted once SHUTDOWN_GRACE_MS is over: calls still running are aborted, outcomes Redis refuses are no longer retried. */
  private readonly graceOver = new AbortController();

  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly store: MissionStore,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    agents: AgentRegistry,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(ExecutionService.name) private readonly logger: PinoLogger,
    private readonly metrics: ExecutionMetrics,
    private readonly consumer: ConsumerHealth,
    private readonly personal: MissionPersonalData,
  ) {
    this.prompts = new AgentPromptCache(agents);
  }

  timeoutFor(type: MissionType): number {
    const perType = {
      guest_support: this.env.EXECUTION_TIMEOUT_MS_GUEST_SUPPORT,
      pricing: this.env.EXECUTION_TIMEOUT_MS_PRICING,
      maintenance: this.env.EXECUTION_TIMEOUT_MS_MAINTENANCE,
    }[type];
    return perType ?? this.env.EXECUTION_TIMEOUT_MS;
  }

  onApplicationBootstrap(): void {
    this.cancelCheck = setInterval(() => void this.abortCancelled(), CANCEL_CHECK_MS);
  }

  /**
   * Shutdown first stops taking missions, then gives the LLM calls in progress SHUTDOWN_GRACE_MS
   * to finish (their results are recorded as usual); calls still running then are aborted and
   * recorded as failed attempts, so the intake queues them again at once for another executor.
   * While Redis is away no result could be recorded: the grace ends at once (or once Redis is
   * lost), and the attempts' messages, left pending, are taken over by another executor, as from
   * one that died during the call.
   */
  async onModuleDestroy(): Promise<void> {
    await this.consumer.stopReading();
    this.shuttingDown = true;
    // Ending the wait early clears its timer too, which would keep a stopped process alive.
    if (!(await settlesWhileReachable(this.redis, this.executionsFinished(this.env.SHUTDOWN_GRACE_MS)))) this.whenIdle?.();
    clearInterval(this.cancelCheck);
    // From now on a call that starts (its message came with the last read) is aborted at once.
    this.graceOver.abort(SHUT_DOWN);
    for (const abort of this.running.values()) abort.abort(SHUT_DOWN);
  }

  /** Resolves when no execution is in progress, or after `timeoutMs`. */
  private executionsFinished(timeoutMs: number): Promise<void> {
    if (this.executing === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.whenIdle?.(), timeoutMs);
      this.whenIdle = () => {
        clearTimeout(timer);
        this.whenIdle = null;
        resolve();
      };
    });
  }

  /**
   * `redelivered` is true when this message was reclaimed from a consumer that stopped (an
   * executor died mid-call): an attempt found running then is counted as failed and retried.
   */
  async execute(assigned: Mission, redelivered = false): Promise<void> {
    // Not acked: the message stays pending and another executor takes it over.
    if (this.shuttingDown) throw new HandBackError('executor is shutting down; handing the mission back');
    this.executing += 1;
    try {
      await this.run(assigned, redelivered);
    } finally {
      this.executing -= 1;
      if (this.executing === 0) this.whenIdle?.();
    }
  }

  private async run(assigned: Mission, redelivered: boolean): Promise<void> {
    const attempt = assigned.attempts;
    const runId = uuidv7();
    const started = await this.pipeline.transition(assigned, (m) => decideStart(m, attempt, runId), { actor: ACTOR });
    if (started.kind !== 'appended' && started.kind !== 'skipped') return;
    const mission = started.mission;
    if (started.kind === 'skipped') {
      const runningThisAttempt = mission.status === 'running' && mission.attempts === attempt && mission.lastError === null;
      if (!runningThisAttempt) return;
      // The append took effect but its reply was lost, so the resent append met our own start.
      if (!(await this.startedBy(runId, mission.id))) {
        if (redelivered) await this.fail(mission, attempt, runId, 'executor lost during the attempt');
        return;
      }
    }

    const abort = new AbortController();
    this.running.set(mission.id, abort);
    if (this.graceOver.signal.aborted) abort.abort(SHUT_DOWN);
    let result: MissionResult;
    try {
      // The prompt is the one place the executor needs the guest's words in plain; they stay in memory.
      // One read of the subjects' keys serves the prompt and the output's sealing.
      const personal = await this.personal.forAttempt(mission);
      const request = buildLlmRequest(personal.mission, {
        systemPrompt: await this.systemPrompt(mission),
        timeoutMs: this.timeoutFor(mission.type),
        signal: abort.signal,
      });
      const stopTimer = this.metrics.duration.startTimer({ type: mission.type });
      const response = await this.llm.complete(request).catch((error: unknown) => {
        stopTimer({ outcome: 'failed' });
        throw error;
      });
      stopTimer({ outcome: 'completed' });
      const agent = mission.assignedAgentId ?? '';
      this.metrics.tokens.inc({ agent, kind: 'prompt' }, response.usage.promptTokens);
      this.metrics.tokens.inc({ agent, kind: 'completion' }, response.usage.completionTokens);
      result = {
        output: personal.sealOutput(response.output),
        model: response.model,
        latencyMs: response.latencyMs,
        usage: response.usage,
        ...(response.costUsd !== undefined ? { costUsd: response.costUsd } : {}),
      };
    } catch (error) {
      const cause = abort.signal.aborted ? abort.signal.reason : error;
      // A request the provider refused as such (a 4xx) fails the same way every time.
      const permanent = cause instanceof LlmError && !cause.retryable ? cause.message : undefined;
      const waitAtLeastMs = cause instanceof LlmError ? cause.retryAfterMs : undefined;
      // The client's error, not the abort's: a reply billed and rejected just before a cancel was still paid for.
      const rejected = error instanceof LlmError ? error.billed : undefined;
      if (rejected) {
        const agent = mission.assignedAgentId ?? '';
        this.metrics.tokens.inc({ agent, kind: 'prompt' }, rejected.usage.promptTokens);
        this.metrics.tokens.inc({ agent, kind: 'completion' }, rejected.usage.completionTokens);
      }
      const billed = rejected ? billedFor(rejected) : undefined;
      const failed = await this.fail(mission, attempt, runId, cause instanceof Error ? cause.message : String(cause), {
        permanent,
        waitAtLeastMs,
        ...(billed ? { billed } : {}),
      });
      // A call the cancel aborted ends here, its attempt over: a late result as much as a reply that came after it.
      if (failed.kind === 'skipped')
        await this.staleResult(failed, attempt, billed ? { attempt, agentId: mission.assignedAgentId ?? '', runId, billed } : undefined);
      return;
    } finally {
      this.running.delete(mission.id);
    }
    const completed = await this.recordOutcome(mission, attempt, { runId, type: 'MissionCompleted' }, () =>
      this.pipeline.transition(mission, (m) => decideComplete(m, attempt, result, runId), { actor: ACTOR }),
    );
    if (completed.kind !== 'skipped') return;
    await this.staleResult(completed, attempt, { attempt, agentId: mission.assignedAgentId ?? '', runId, billed: billedFor(result) });
  }

  /**
   * Appends what the attempt came to (its reply or its failure), tried again while Redis refuses it
   * for a while (out of memory, unreachable): only this run holds the reply, and a handler failing
   * here had its message redelivered to a run that finds the attempt started by another and fails
   * it as "executor lost", the reply paid for thrown away and an attempt used up. Retrying is safe:
   * the append expects the version it read, so one that took effect before its reply was lost
   * meets a conflict and decides again. It gives up when the shutdown grace is over (the message
   * is then reclaimed by another executor, as when this one dies).
   *
   * A skip may meet the outcome this run recorded itself: a try (or ioredis resending it after a
   * reconnect) that took effect, its reply lost with the connection. The run's `runId` on the
   * outcome's event tells it apart from another run's outcome or an attempt ended meanwhile, which
   * stay stale; it is `recorded`, as it was, once.
   */
  private async recordOutcome(
    mission: Mission,
    attempt: number,
    own: { runId: string; type: 'MissionCompleted' | 'MissionFailed' },
    record: () => Promise<TransitionOutcome>,
  ): Promise<RecordOutcome> {
    const { id: missionId, correlationId } = mission;
    const { value: outcome, refusals } = await this.untilRedisTakes(mission, attempt, "the attempt's outcome", record);
    if (outcome.kind === 'skipped' && (await this.recordedBy(own.runId, missionId, own.type))) {
      this.logger.info({ missionId, correlationId, attempt, refusals }, "attempt's outcome recorded by a try whose reply was lost");
      return { kind: 'recorded', mission: outcome.mission };
    }
    if (refusals > 0) this.logger.info({ missionId, correlationId, attempt, refusals }, "attempt's outcome recorded once Redis took it");
    return outcome;
  }

  /**
   * Runs `append` until Redis takes it (see recordOutcome: only this run holds what it records;
   * the loop is `untilRedisTakes` of `@app/redis`, which the evaluator's billed verdicts use too);
   * gives up once the shutdown grace is over. `what` names the record in the one warning.
   */
  private untilRedisTakes<T>(mission: Mission, attempt: number, what: string, append: () => Promise<T>): Promise<{ value: T; refusals: number }> {
    const { id: missionId, correlationId } = mission;
    return untilRedisTakes(append, {
      signal: this.graceOver.signal,
      firstRefusal: (error) => this.logger.warn({ missionId, correlationId, attempt, err: error }, `recording ${what} failed; retrying until Redis takes it`),
    });
  }

  /**
   * A late result (its attempt was cancelled, timed out or superseded), a reply or a failure alike:
   * counted and logged, and it changes no status. Counted whichever way it ended, so a cancelled
   * attempt counts the same whether its reply came before the cancel check aborted the call or not.
   * A `late` reply (one the provider billed, used or rejected) was paid for all the same: it is recorded
   * as LateReplyBilled, so the log, and the daily report read from it, hold what the mission cost.
   */
  private async staleResult(skipped: Extract<TransitionOutcome, { kind: 'skipped' }>, attempt: number, late?: LateReply): Promise<void> {
    this.metrics.staleResults.inc();
    const { id: missionId, correlationId } = skipped.mission;
    this.logger.info({ missionId, correlationId, attempt, reason: skipped.reason }, 'stale result ignored');
    if (!late) return;
    // Only this run knows the reply, so it is retried as an outcome is; decideLateReply records a run's reply once.
    const { value: recorded } = await this.untilRedisTakes(skipped.mission, attempt, "the late reply's billing", () =>
      this.pipeline.transition(skipped.mission, (m) => decideLateReply(m, late), { actor: ACTOR }),
    );
    if (recorded.kind === 'appended') this.logger.info({ missionId, correlationId, attempt, runId: late.runId }, 'late reply billed recorded');
  }

  /**
   * Fails the attempt `assigned` stands for, unless it is over already: the executor could not
   * handle its message at all (settleOnLastDelivery), and the message will not come again.
   */
  async abandon(assigned: Mission, reason: string): Promise<void> {
    await this.fail(assigned, assigned.attempts, uuidv7(), reason);
  }

  /**
   * Whether the mission's latest MissionStarted is the one this run wrote. Not its latest event:
   * events that leave a running mission running (MissionOverdue) may have come after it.
   */
  private async startedBy(runId: string, missionId: string): Promise<boolean> {
    const started = await this.store.lastEventOfType(missionId, 'MissionStarted');
    return started?.data.runId === runId;
  }

  /** Whether the mission holds an outcome of `type` that this run wrote, wherever later events put it. */
  private async recordedBy(runId: string, missionId: string, type: 'MissionCompleted' | 'MissionFailed'): Promise<boolean> {
    return (await this.store.lastEventOfType(missionId, type, (event) => event.data.runId === runId)) !== null;
  }

  /**
   * Records the failure with what follows it (the next attempt after its backoff, at least
   * `waitAtLeastMs`, or the dead-letter, at once when the failure is `permanent`) and the agent's
   * release, atomically; `billed`, the usage of a reply the provider billed and the client rejected.
   * `runId` names the run that records it. Skipped when the attempt is over already.
   */
  private async fail(
    mission: Mission,
    attempt: number,
    runId: string,
    error: string,
    why: { permanent?: string; waitAtLeastMs?: number; billed?: BilledAttempt } = {},
  ): Promise<RecordOutcome> {
    const { permanent, waitAtLeastMs, billed } = why;
    const agentId = mission.assignedAgentId ?? '';
    this.logger.warn(
      { missionId: mission.id, correlationId: mission.correlationId, attempt, agentId, error, permanent: permanent !== undefined },
      'execution failed',
    );
    const outcome = await this.recordOutcome(mission, attempt, { runId, type: 'MissionFailed' }, () =>
      this.pipeline.transition(
        mission,
        (m) =>
          decideFailure(m, attempt, error, this.env.MAX_ATTEMPTS, {
            runId,
            backoff: retryBackoff(this.env),
            ...(permanent ? { permanent } : {}),
            ...(waitAtLeastMs ? { waitAtLeastMs } : {}),
            ...(billed ? { billed } : {}),
          }),
        { actor: ACTOR },
      ),
    );
    // A dead-letter the lost try recorded is still this attempt's: the mission is dead-lettered at it unless requeued since.
    const ours = outcome.kind === 'appended' || (outcome.kind === 'recorded' && outcome.mission.attempts === attempt);
    if (ours && outcome.mission.status === 'dead_lettered') logDeadLetter(this.logger, outcome.mission);
    return outcome;
  }

  private async abortCancelled(): Promise<void> {
    if (this.running.size === 0) return;
    const ids = [...this.running.keys()];
    try {
      const statuses = await readMissionFields(this.redis, this.keys, ids, MISSION_HASH_FIELDS.status);
      ids.forEach((id, i) => {
        if (statuses[i] === 'cancelled') this.running.get(id)?.abort(new Error('mission cancelled'));
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'checking running missions for cancellation failed');
    }
  }

  private systemPrompt(mission: Mission): Promise<string> {
    return this.prompts.promptOf(mission.assignedAgentId ?? '');
  }
}
