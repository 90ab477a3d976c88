import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { RedisStreamsContext, StreamConsumer } from '@app/redis-streams';
import { EvaluationService } from './evaluation.service';

@StreamConsumer()
export class EvaluationConsumer {
  constructor(private readonly evaluation: EvaluationService) {}

  @EventPattern(Patterns.evaluator.missionCompleted)
  async missionCompleted(@Payload(messageValidation) message: MissionMessage, @Ctx() context: RedisStreamsContext): Promise<void> {
    await this.evaluation.evaluate(message.mission, { redelivered: context.getDeliveries() > 1 });
  }
}
