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

/**
 * The most characters of a rejection's reason that its entry keeps and its warn logs: a reason
 * quotes what the sender sent (a property's name, a key), and a 100 KB property name made a
 * 200 KB reason, stored and logged in one line. Far more than any reason about a body that is
 * not so built.
 */
const MAX_REJECTION_REASON_CHARS = 2_000;

/** The reason cut to MAX_REJECTION_REASON_CHARS, saying how much was left out; never halving a character written as two UTF-16 units. */
function boundedReason(reason: string): string {
  if (reason.length <= MAX_REJECTION_REASON_CHARS) return reason;
  const end = /[\uD800-\uDBFF]/.test(reason[MAX_REJECTION_REASON_CHARS - 1]) ? MAX_REJECTION_REASON_CHARS - 1 : MAX_REJECTION_REASON_CHARS;
  return `${reason.slice(0, end)}… (${reason.length - end} more characters)`;
}

/** The actor of missions submitted over the stream: the stream's pattern, as a sender's own claim would be unchecked. */
const STREAM_ACTOR = `stream:${Patterns.intake.submitMission}`;

/**
 * Internal submission over the intake stream. An invalid command (data nested deeper than the
 * transport parses included, and data over BODY_LIMIT_BYTES, unread), or one the intake refuses (an idempotency key reused with another
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

  // Data the transport would not parse (over BODY_LIMIT_BYTES, nested too deep, not UTF-8) is refused
  // here too, so its sender sees why; nothing of it is kept (the transport set by streamsServer).
  @EventPattern(Patterns.intake.submitMission, TAKES_REFUSED_DATA)
  async submit(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    if (data instanceof RefusedData) return this.reject(null, data.reason, RejectionCode.Invalid, context);
    const command = validateSubmitMission(data);
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
  private async reject(data: unknown, fullReason: string, code: RejectionCode, context: RedisStreamsContext): Promise<void> {
    const messageId = context.getMessageId();
    const reason = boundedReason(fullReason);
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
