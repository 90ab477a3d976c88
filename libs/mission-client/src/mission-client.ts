import { ChainableCommander } from 'ioredis';
import { RedisConnection } from '@app/redis';
import { KeyLayout } from '@app/event-store';
import { Patterns, validateSubmitMission } from '@app/messages';
import { MissionCreateDto, missionIdFor } from '@app/mission';
import { encodeMessage } from '@app/redis-streams';

export class MissionSubmissionError extends Error {
  constructor(readonly problems: string[]) {
    super(`mission submission is invalid: ${problems.join('; ')}`);
    this.name = 'MissionSubmissionError';
  }
}

export interface SubmitOptions {
  /** The same key always yields the same mission id, so a retried submit creates nothing new. */
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
    const ids: string[] = [];
    const pipelines = new Map<number, { pipeline: ChainableCommander; ids: string[] }>();
    for (const [i, mission] of missions.entries()) {
      const opts = options[i] ?? {};
      const missionId = missionIdFor(mission, opts.idempotencyKey);
      const command = { mission, missionId, ...opts };
      const checked = validateSubmitMission(command);
      if (!checked.ok) throw new MissionSubmissionError(checked.problems.map((p) => `missions[${i}].${p}`));
      // A pipeline per partition: on a Redis Cluster one pipeline may only touch one node.
      const partition = this.keys.partitionOf(missionId);
      let batch = pipelines.get(partition);
      if (!batch) pipelines.set(partition, (batch = { pipeline: this.redis.pipeline(), ids: [] }));
      batch.pipeline.xadd(this.keys.partitions[partition].stream('intake'), '*', ...encodeMessage(Patterns.intake.submitMission, command));
      batch.ids.push(missionId);
      ids.push(missionId);
    }
    const failures = new Map<string, string>();
    await Promise.all(
      [...pipelines.values()].map(async ({ pipeline, ids: batchIds }) => {
        // exec() resolves with [error, reply] pairs: a failed XADD must not come back as a submitted id.
        const replies = await pipeline.exec().catch((error: Error) => batchIds.map(() => [error, null] as [Error, null]));
        batchIds.forEach((id, i) => {
          const error = replies?.[i]?.[0] ?? (replies ? null : new Error('no reply'));
          if (error) failures.set(id, error.message);
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
