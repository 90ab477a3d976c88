import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { RedisStreamsContext, settleOnLastDelivery, StreamConsumer } from '@app/redis-streams';
import { EvaluationService } from './evaluation.service';

@StreamConsumer()
export class EvaluationConsumer {
  constructor(private readonly evaluation: EvaluationService) {}

  /** A message the evaluator cannot handle even on its last delivery is a failed verdict no judge gave, so the retry rules go on. */
  @EventPattern(Patterns.evaluator.missionCompleted)
  async missionCompleted(@Payload(messageValidation) message: MissionMessage, @Ctx() context: RedisStreamsContext): Promise<void> {
    await settleOnLastDelivery(
      context,
      () => this.evaluation.evaluate(message.mission, { redelivered: context.getDeliveries() > 1 }),
      (reason) => this.evaluation.abandon(message.mission, `the evaluator ${reason}`),
    );
  }
}
