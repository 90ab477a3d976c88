import { DynamicModule, Module } from '@nestjs/common';
import { AgentRegistry, AgentSlots } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { createRedisConnection, RedisConnection } from '@app/redis';
import { LeaseRequest, LeaseReturn } from '@app/messages';
import { RedisStreamsClient } from '@app/redis-streams';
import { CoreModule, REDIS } from '@app/runtime';
import { AgentMetrics } from './agents/agent-metrics';
import { AgentSeeder } from './agents/agent-seeder.service';
import { OrphanHoldReaper } from './agents/orphan-hold-reaper.service';
import { DispatchConsumer } from './dispatch/dispatch.consumer';
import { DispatchMetrics } from './dispatch/dispatch-metrics';
import { Dispatcher } from './dispatch/dispatcher.service';
import { INTAKE_CLIENT } from './dispatch/intake-client';

/** A lease request goes to the partition it asks of; returned missions all come from one partition's lease. */
function intakeStreamFor(keys: KeyLayout, data: LeaseRequest | LeaseReturn): string {
  const partition = 'missionIds' in data ? keys.partitionOf(data.missionIds[0] ?? '') : data.partition;
  return keys.partitions[partition].stream('intake');
}

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
        {
          provide: INTAKE_CLIENT,
          inject: [KeyLayout],
          useFactory: (keys: KeyLayout) =>
            new RedisStreamsClient({
              connect: () => createRedisConnection(env, { name: 'orchestrator-to-intake' }),
              stream: (_pattern, data) => intakeStreamFor(keys, data as LeaseRequest | LeaseReturn),
            }),
        },
        AgentSeeder,
        AgentMetrics,
        OrphanHoldReaper,
        DispatchMetrics,
        Dispatcher,
      ],
    };
  }
}
