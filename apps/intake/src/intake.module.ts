import { DynamicModule, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { ReadyQueue } from '@app/mission-queue';
import { CoreModule, REDIS } from '@app/runtime';
import { MissionIntakeService } from './missions/mission-intake.service';
import { MissionsController } from './missions/missions.controller';
import { LeaseExpiryService } from './queue/lease-expiry.service';
import { QueueConsumer } from './queue/queue.consumer';

@Module({})
export class IntakeModule {
  static register(env: Environment): DynamicModule {
    return {
      module: IntakeModule,
      imports: [CoreModule.forRoot(env, 'intake')],
      controllers: [MissionsController, QueueConsumer],
      providers: [
        {
          provide: ReadyQueue,
          inject: [REDIS, KeyLayout],
          useFactory: (redis: Redis, keys: KeyLayout) => new ReadyQueue(redis, keys, env.PRIORITY_HEADSTART_MS_PER_POINT),
        },
        MissionIntakeService,
        LeaseExpiryService,
      ],
    };
  }
}
