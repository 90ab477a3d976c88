import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { messageValidation, MissionsLeased, Patterns } from '@app/messages';
import { Dispatcher } from './dispatcher.service';

@Controller()
export class DispatchConsumer {
  constructor(private readonly dispatcher: Dispatcher) {}

  @EventPattern(Patterns.orchestrator.queueReady)
  async queueReady(): Promise<void> {
    await this.dispatcher.lookForWork();
  }

  @EventPattern(Patterns.orchestrator.agentReleased)
  async agentReleased(): Promise<void> {
    await this.dispatcher.lookForWork();
  }

  @EventPattern(Patterns.orchestrator.missionsLeased)
  async missionsLeased(@Payload(messageValidation) leased: MissionsLeased): Promise<void> {
    await this.dispatcher.place(leased);
  }
}
