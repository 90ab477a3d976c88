import { Controller, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { Effect, MissionStore } from '@app/event-store';
import { AttemptFailed, LeaseRequest, LeaseReturn, messageValidation, Patterns } from '@app/messages';
import { decideRetry } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { RedisStreamsContext } from '@app/redis-streams';
import { ENVIRONMENT } from '@app/runtime';

/** The intake's stream handlers: leases for the orchestrator, and what follows a failed attempt. */
@ApiExcludeController() // stream handlers, not HTTP routes: no part of the OpenAPI document
@Controller()
export class QueueConsumer {
  constructor(
    private readonly queue: ReadyQueue,
    private readonly store: MissionStore,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(QueueConsumer.name) private readonly logger: PinoLogger,
  ) {}

  /** Queues the next attempt, or dead-letters the mission once MAX_ATTEMPTS are used. */
  @EventPattern(Patterns.intake.attemptFailed)
  async retry(@Payload(messageValidation) failed: AttemptFailed): Promise<void> {
    const now = Date.now();
    const outcome = await this.store.transition(
      failed.missionId,
      (mission) => decideRetry(mission, failed.attempt, this.env.MAX_ATTEMPTS),
      { actor: 'intake' },
      (next): Effect[] =>
        next.status === 'queued'
          ? [
              { kind: 'enqueue', score: this.queue.score(next.priorityScore, now), enqueuedAt: now, level: next.priority },
              { kind: 'count', counter: 'enqueued', by: 1 },
              { kind: 'nudge-orchestrator' },
            ]
          : [{ kind: 'dead-letter', at: now }],
    );
    if (outcome.kind === 'appended' && outcome.mission.status === 'dead_lettered') {
      const { id: missionId, correlationId, lastError, attempts } = outcome.mission;
      this.logger.warn({ missionId, correlationId, attempts, lastError }, 'mission dead-lettered');
    }
  }
}
