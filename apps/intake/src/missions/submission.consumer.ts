import { Controller, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisConnection } from '@app/redis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { KeyLayout } from '@app/event-store';
import { Patterns, validateSubmitMission } from '@app/messages';
import { requiredSkillsOf } from '@app/mission';
import { RedisStreamsContext } from '@app/redis-streams';
import { Environment } from '@app/config';
import { ENVIRONMENT, REDIS } from '@app/runtime';
import { MissionIntakeService } from './mission-intake.service';
import { ServableSkills } from './servable-skills';

/**
 * Internal submission over the intake stream. An invalid command is not retried and does not
 * stop the consumer: it goes to the rejection stream with its reason, for its sender to see.
 */
@ApiExcludeController() // stream handlers, not HTTP routes: no part of the OpenAPI document
@Controller()
export class SubmissionConsumer {
  constructor(
    private readonly missions: MissionIntakeService,
    private readonly servable: ServableSkills,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(SubmissionConsumer.name) private readonly logger: PinoLogger,
  ) {}

  @EventPattern(Patterns.intake.submitMission)
  async submit(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const size = Buffer.byteLength(JSON.stringify(data) ?? '');
    const command =
      size > this.env.BODY_LIMIT_BYTES
        ? { ok: false as const, problems: [`data is ${size} bytes, over BODY_LIMIT_BYTES ${this.env.BODY_LIMIT_BYTES}`] }
        : validateSubmitMission(data);
    // An invalid command, or one for a mission no agent could take.
    const refusal = command.ok ? await this.servable.refusal(requiredSkillsOf(command.value.mission)) : command.problems.join('; ');
    if (!command.ok || refusal !== null) {
      const reason = refusal ?? '';
      await this.redis.xadd(
        this.keys.partitions[context.getPartition()].rejectedSubmissions, '*',
        'messageId', context.getMessageId(), 'reason', reason, 'rejectedAt', new Date().toISOString(), 'data', JSON.stringify(data),
      );
      this.logger.warn({ messageId: context.getMessageId(), reason }, 'mission submission rejected');
      return;
    }
    const { mission, missionId, idempotencyKey, correlationId } = command.value;
    await this.missions.create(mission, { missionId, idempotencyKey, correlationId });
  }
}
