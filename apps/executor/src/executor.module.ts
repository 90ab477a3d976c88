import { DynamicModule, Module } from '@nestjs/common';
import { AgentRegistry } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { CoreModule, REDIS } from '@app/runtime';
import { ExecutionMetrics } from './execution/execution-metrics';
import { ExecutionConsumer } from './execution/execution.consumer';
import { ExecutionService } from './execution/execution.service';
import { llmClientProvider } from './llm-client.provider';

@Module({})
export class ExecutorModule {
  static register(env: Environment): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [CoreModule.forRoot(env, 'executor')],
      controllers: [ExecutionConsumer],
      providers: [
        { provide: AgentRegistry, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new AgentRegistry(redis, keys) },
        llmClientProvider(env),
        ExecutionMetrics,
        ExecutionService,
      ],
    };
  }
}
