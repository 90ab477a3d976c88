import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { SubjectErasure, SubjectsService } from './subjects.service';

/**
 * Every ERASURE_SWEEP_MS, finishes the erasures a crash left pending: the subject's key destroyed
 * (or about to be) and SubjectErased missing on some of its missions, which would otherwise run on
 * without their data until dead-lettered. An erasure pending for a period or longer is taken to be
 * interrupted (the request itself takes milliseconds), so one finishes at most two periods after
 * its crash. Every intake sweeps; completing an erasure twice changes nothing, and there is rarely
 * anything to do (one ZRANGE).
 */
@Injectable()
export class ErasureSweepService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    private readonly subjects: SubjectsService,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    /** The connection the subjects service waits on: the sweep's task is given it for its stop. */
    @Inject(REDIS) redis: RedisConnection,
    @InjectPinoLogger(ErasureSweepService.name) private readonly logger: PinoLogger,
  ) {
    this.task = new PeriodicTask(
      () => this.sweep(),
      (error) => this.logger.error({ err: error }, 'erasure sweep failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start(this.env.ERASURE_SWEEP_MS);
  }

  /** Before the Redis connection closes (shutdown hooks run after destroy hooks). */
  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /**
   * Finishes every erasure pending for a period or longer at `now`; returns those it finished.
   * Younger ones are left to the request that is still working on them, if it lives.
   */
  async sweep(now = new Date()): Promise<SubjectErasure[]> {
    const { finished, failed } = await this.subjects.finishPending(new Date(now.getTime() - this.env.ERASURE_SWEEP_MS));
    for (const erasure of finished) {
      const recorded = erasure.missions.filter((mission) => mission.recorded).length;
      this.logger.info({ subjectId: erasure.subjectId, recorded, keyDestroyed: erasure.keyDestroyed }, 'pending erasure finished');
    }
    for (const { subjectId, error } of failed) {
      this.logger.error({ err: error, subjectId }, 'pending erasure could not be finished; the next sweep tries again');
    }
    return finished;
  }
}
