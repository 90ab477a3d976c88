import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { PassedOverMissions, UnreadableStoredDataError } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { SubjectErasure, SubjectsService } from './subjects.service';

/**
 * Every ERASURE_SWEEP_MS, finishes the erasures a crash left pending: the subject's key destroyed
 * (or about to be) and SubjectErased missing on some of its missions, which would otherwise run on
 * without their data until dead-lettered. An erasure pending for a period or longer is taken to be
 * interrupted (the request itself takes milliseconds), so one finishes at most two periods after
 * its crash. Every intake sweeps; completing an erasure twice changes nothing, and there is rarely
 * anything to do (one ZRANGE). An erasure held up by a mission whose stored data cannot be read
 * (changed by hand) stays pending, named once per subject and mission in a `warn` with the remedy
 * rather than a stack every run. A run stops at the first such mission of the subject: once it is
 * mended the next run names the next, if any, and the first run after every mission of the
 * subject can be read finishes the erasure.
 */
@Injectable()
export class ErasureSweepService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;
  /** Per subject whose erasure a mission that cannot be read holds up: the missions named for it. */
  private readonly heldUp = new Map<string, PassedOverMissions>();

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
      if (error instanceof UnreadableStoredDataError) this.heldUpBy(subjectId).note(error);
      else this.logger.error({ err: error, subjectId }, 'pending erasure could not be finished; the next sweep tries again');
    }
    // Finished, or no longer pending: should a later erasure of the subject be held up, it is named again.
    const stillPending = new Set(failed.map(({ subjectId }) => subjectId));
    for (const subjectId of this.heldUp.keys()) if (!stillPending.has(subjectId)) this.heldUp.delete(subjectId);
    return finished;
  }

  private heldUpBy(subjectId: string): PassedOverMissions {
    let named = this.heldUp.get(subjectId);
    if (!named) {
      named = new PassedOverMissions('the erasure sweep', (message) => this.logger.warn(message), {
        holdsUp: `the erasure of subject ${subjectId} stays pending until every mission of the subject can be read, and the first sweep after that finishes it`,
      });
      this.heldUp.set(subjectId, named);
    }
    return named;
  }
}
