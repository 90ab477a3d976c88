import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionMessage, Patterns } from '@app/messages';
import { RedisStreamsContext, settleOnLastDelivery, StreamConsumer } from '@app/redis-streams';
import { ExecutionService } from './execution.service';

@StreamConsumer()
export class ExecutionConsumer {
  constructor(private readonly execution: ExecutionService) {}

  /** A message the executor cannot handle even on its last delivery fails its attempt, so the retry rules go on. */
  @EventPattern(Patterns.executor.missionAssigned)
  async missionAssigned(@Payload(messageValidation) message: MissionMessage, @Ctx() context: RedisStreamsContext): Promise<void> {
    await settleOnLastDelivery(
      context,
      () => this.execution.execute(message.mission, context.getDeliveries() > 1),
      (reason) => this.execution.abandon(message.mission, `the executor ${reason}`),
    );
  }
}
