import { DynamicModule, Module } from '@nestjs/common';
import { AgentRegistry, AgentSlots } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { CoreModule, REDIS } from '@app/runtime';
import { AgentMetrics } from './agents/agent-metrics';
import { AGENT_PROFILES, AgentSeeder, seedProfiles } from './agents/agent-seeder.service';
import { OrphanHoldReaper } from './agents/orphan-hold-reaper.service';
import { DispatchMetrics } from './dispatch/dispatch-metrics';
import { DispatchConsumer } from './dispatch/dispatch.consumer';
import { Dispatcher } from './dispatch/dispatcher.service';

@Module({})
export class OrchestratorModule {
  static register(env: Environment): DynamicModule {
    return {
      module: OrchestratorModule,
      imports: [CoreModule.forRoot(env, 'orchestrator')],
      controllers: [DispatchConsumer],
      providers: [
        { provide: AgentRegistry, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new AgentRegistry(redis, keys) },
        { provide: AgentSlots, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new AgentSlots(redis, keys) },
        { provide: AGENT_PROFILES, useFactory: seedProfiles },
        AgentSeeder,
        AgentMetrics,
        OrphanHoldReaper,
        DispatchMetrics,
        Dispatcher,
      ],
    };
  }
}
