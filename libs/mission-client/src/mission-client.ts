import { KeyLayout } from '@app/event-store';
import { MESSAGE_ROUTES, Patterns, validateSubmitMission } from '@app/messages';
import { MissionCreateDto, missionIdFor, SUBMISSION_STREAM_SCOPE } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { encodeMessage } from '@app/redis-streams';
import { currentTraceCarrier } from '@app/tracing';

export class MissionSubmissionError extends Error {
  constructor(readonly problems: string[]) {
    super(`mission submission is invalid: ${problems.join('; ')}`);
    this.name = 'MissionSubmissionError';
  }
}

export interface SubmitOptions {
  /**
   * The same key always yields the same mission id, so a retried submit creates nothing new. Keys
   * of the stream are a scope of their own, apart from every REST client's.
   */
  idempotencyKey?: string;
  correlationId?: string;
}

/**
 * Submits missions from an internal service over the intake's command stream, validated here
 * with the same rules as the REST API, and returns the mission id at once.
 */
export class MissionClient {
  private readonly keys: KeyLayout;

  constructor(
    private readonly redis: RedisConnection,
    keyPrefix: string,
    /** LOG_PARTITIONS of the deployment. */
    logPartitions = 1,
  ) {
    this.keys = new KeyLayout(keyPrefix, logPartitions);
  }

  async create(mission: MissionCreateDto, options: SubmitOptions = {}): Promise<string> {
    const [missionId] = await this.createMany([mission], [options]);
    return missionId;
  }

  /** Submits many missions in one round trip per log partition; returns their ids in order. */
  async createMany(missions: readonly MissionCreateDto[], options: SubmitOptions[] = []): Promise<string[]> {
    const commands = missions.map((mission, i) => {
      const opts = options[i] ?? {};
      const command = { mission, missionId: missionIdFor(SUBMISSION_STREAM_SCOPE, mission, opts.idempotencyKey), ...opts };
      const checked = validateSubmitMission(command);
      if (!checked.ok) throw new MissionSubmissionError(checked.problems.map((p) => `missions[${i}].${p}`));
      return command;
    });
    const ids = commands.map((command) => command.missionId);
    const failures = new Map<string, string>();
    const trace = currentTraceCarrier();
    await Promise.all(
      [...this.keys.groupByPartition(ids)].map(async ([partition, positions]) => {
        const pipeline = this.redis.pipeline();
        const stream = this.keys.partitions[partition].stream(MESSAGE_ROUTES[Patterns.intake.submitMission]);
        for (const position of positions) pipeline.xadd(stream, '*', ...encodeMessage(Patterns.intake.submitMission, commands[position], trace));
        // exec() resolves with [error, reply] pairs: a failed XADD must not come back as a submitted id.
        const replies = await pipeline.exec().catch((error: Error) => positions.map(() => [error, null] as [Error, null]));
        positions.forEach((position, i) => {
          const error = replies?.[i]?.[0] ?? (replies ? null : new Error('no reply'));
          if (error) failures.set(ids[position], error.message);
        });
      }),
    );
    if (failures.size > 0) {
      const written = ids.filter((id) => !failures.has(id));
      throw new MissionSubmissionError([
        `${failures.size} of ${ids.length} submissions failed (${[...failures.values()][0]}); ` +
          `written: [${written.join(', ')}]; failed: [${[...failures.keys()].join(', ')}] — resubmitting with the same idempotency keys is safe`,
      ]);
    }
    return ids;
  }
}
