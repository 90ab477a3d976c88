import { EventPattern, Payload } from '@nestjs/microservices';
import { AgentSlots } from '@app/agents';
import { AgentReleased, messageValidation, Patterns } from '@app/messages';
import { StreamConsumer } from '@app/redis-streams';
import { Dispatcher } from './dispatcher.service';

@StreamConsumer()
export class DispatchConsumer {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly slots: AgentSlots,
  ) {}

  @EventPattern(Patterns.orchestrator.queueReady)
  async queueReady(): Promise<void> {
    await this.dispatcher.lookSoon();
  }

  @EventPattern(Patterns.orchestrator.agentReleased)
  async agentReleased(@Payload(messageValidation) released: AgentReleased): Promise<void> {
    const { agentId, missionId, attempt, credit, by } = released;
    await this.slots.endAttempt({ agentId, missionId, attempt }, credit && { ...credit, actor: by });
    await this.dispatcher.lookSoon();
  }
}
