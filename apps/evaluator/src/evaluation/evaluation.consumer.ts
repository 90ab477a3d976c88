import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { EvaluationService } from './evaluation.service';

@Controller()
export class EvaluationConsumer {
  constructor(private readonly evaluation: EvaluationService) {}

  @EventPattern(Patterns.evaluator.missionCompleted)
  async missionCompleted(@Payload(messageValidation) message: MissionMessage): Promise<void> {
    await this.evaluation.evaluate(message.mission);
  }
}
