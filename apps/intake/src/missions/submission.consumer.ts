import { join } from 'node:path';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { Patterns, redactedSubmission, RejectionCode, validateSubmitMission } from '@app/messages';
import { missionIdForStreamEntry, SUBMISSION_STREAM_SCOPE } from '@app/mission';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { RedisStreamsContext, RefusedData, StreamConsumer, TAKES_REFUSED_DATA } from '@app/redis-streams';
import { ENVIRONMENT, REDIS, StreamMetrics } from '@app/runtime';
import { MissionCreateRefusedError } from './mission-create-refused.error';
import { MissionIntakeService } from './mission-intake.service';

/** Result codes of record-rejection-1.lua. */
enum RejectionRecordCode {
  Written = 0,
  RecordedAlready = 1,
}

const recordRejectionScript = new LuaScript(join(__dirname, 'lua'), 'record-rejection-1', { constants: { CODE: luaEnum(RejectionRecordCode) } });

/** The actor of missions submitted over the stream: the stream's pattern, as a sender's own claim would be unchecked. */
const STREAM_ACTOR = `stream:${Patterns.intake.submitMission}`;

/**
 * Internal submission over the intake stream. An invalid command (data nested deeper than the
 * transport parses included), or one the intake refuses (an idempotency key reused with another
 * body, mission text over MAX_MISSION_TEXT_BYTES), is not
 * retried and does not stop the consumer: it goes to the rejection stream with its reason, for
 * its sender to see.
 */
@ApiExcludeController() // stream handlers, not HTTP routes: no part of the OpenAPI document
@StreamConsumer()
export class SubmissionConsumer {
  constructor(
    private readonly missions: MissionIntakeService,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(SubmissionConsumer.name) private readonly logger: PinoLogger,
    private readonly streams: StreamMetrics,
  ) {}

  // Data the transport would not parse (nested too deep) is refused here too, so its sender sees why.
  @EventPattern(Patterns.intake.submitMission, TAKES_REFUSED_DATA)
  async submit(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    if (data instanceof RefusedData) return this.reject(null, data.reason, RejectionCode.Invalid, context);
    const size = Buffer.byteLength(JSON.stringify(data) ?? '');
    const command =
      size > this.env.BODY_LIMIT_BYTES
        ? { ok: false as const, problems: [`data is ${size} bytes, over BODY_LIMIT_BYTES ${this.env.BODY_LIMIT_BYTES}`] }
        : validateSubmitMission(data);
    if (!command.ok) return this.reject(data, command.problems.join('; '), RejectionCode.Invalid, context);
    const { mission, missionId, idempotencyKey, correlationId } = command.value;
    // Without an id, key or source of its own the mission is named after this entry: a redelivery of it is a repeat.
    const idWithoutKey = missionIdForStreamEntry(context.getStream(), context.getMessageId());
    try {
      await this.missions.create(mission, { actor: STREAM_ACTOR, scope: SUBMISSION_STREAM_SCOPE, missionId, idWithoutKey, idempotencyKey, correlationId });
    } catch (error) {
      if (error instanceof MissionCreateRefusedError) return this.reject(data, error.message, error.code, context);
      throw error;
    }
  }

  /**
   * Records the refusal once per message: a delivery that comes again (the intake died between this
   * and the acknowledgement) finds its entry and neither adds a second nor counts or logs it again.
   */
  private async reject(data: unknown, reason: string, code: RejectionCode, context: RedisStreamsContext): Promise<void> {
    const messageId = context.getMessageId();
    const written = await recordRejectionScript.run(
      this.redis,
      [this.keys.partitions[context.getPartition()].rejectedSubmissions],
      [
        messageId,
        context.getDeliveries(),
        this.env.FAILED_STREAM_MAX_LEN,
        'messageId',
        messageId,
        'reason',
        reason,
        'code',
        code,
        'rejectedAt',
        new Date().toISOString(),
        'data',
        // Kept in plain for the sender to see, so without the guest's data: it never got a subject's key.
        JSON.stringify(redactedSubmission(data)),
      ],
    );
    if (written !== RejectionRecordCode.Written) return;
    this.streams.rejected(context.getStream());
    this.logger.warn({ messageId, reason }, 'mission submission rejected');
  }
}
