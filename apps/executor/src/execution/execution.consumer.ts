import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { ExecutionService } from './execution.service';

@Controller()
export class ExecutionConsumer {
  constructor(private readonly execution: ExecutionService) {}

  @EventPattern(Patterns.executor.missionAssigned)
  async missionAssigned(@Payload(messageValidation) message: MissionMessage): Promise<void> {
    await this.execution.execute(message.mission);
  }
}
