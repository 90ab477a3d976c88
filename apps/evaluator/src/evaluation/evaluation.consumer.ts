import { EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { StreamConsumer } from '@app/redis-streams';
import { EvaluationService } from './evaluation.service';

@StreamConsumer()
export class EvaluationConsumer {
  constructor(private readonly evaluation: EvaluationService) {}

  @EventPattern(Patterns.evaluator.missionCompleted)
  async missionCompleted(@Payload(messageValidation) message: MissionMessage): Promise<void> {
    await this.evaluation.evaluate(message.mission);
  }
}
