import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { RedisStreamsContext, StreamConsumer } from '@app/redis-streams';
import { ExecutionService } from './execution.service';

@StreamConsumer()
export class ExecutionConsumer {
  constructor(private readonly execution: ExecutionService) {}

  @EventPattern(Patterns.executor.missionAssigned)
  async missionAssigned(@Payload(messageValidation) message: MissionMessage, @Ctx() context: RedisStreamsContext): Promise<void> {
    await this.execution.execute(message.mission, context.getDeliveries() > 1);
  }
}
