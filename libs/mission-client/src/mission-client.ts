import Redis from 'ioredis';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { KeyLayout } from '@app/event-store';
import { Patterns, validateSubmitMission } from '@app/messages';
import { MissionCreateDto } from '@app/mission';
import { encodeMessage } from '@app/redis-streams';

/** Namespace for mission ids derived from idempotency keys (uuid v5). */
const IDEMPOTENT_ID_NAMESPACE = '0f3c2a52-7d1e-4a8b-9c55-6b1f0e2d9a71';

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
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.keys = new KeyLayout(keyPrefix);
  }

  async create(mission: MissionCreateDto, options: SubmitOptions = {}): Promise<string> {
    const [missionId] = await this.createMany([mission], [options]);
    return missionId;
  }

  /** Submits many missions in one round trip; returns their ids in order. */
  async createMany(missions: readonly MissionCreateDto[], options: SubmitOptions[] = []): Promise<string[]> {
    const pipeline = this.redis.pipeline();
    const ids: string[] = [];
    for (const [i, mission] of missions.entries()) {
      const opts = options[i] ?? {};
      const missionId = opts.idempotencyKey ? uuidv5(opts.idempotencyKey, IDEMPOTENT_ID_NAMESPACE) : uuidv7();
      const command = { mission, missionId, ...opts };
      const checked = validateSubmitMission(command);
      if (!checked.ok) throw new MissionSubmissionError(checked.problems.map((p) => `missions[${i}].${p}`));
      pipeline.xadd(this.keys.stream('intake'), '*', ...encodeMessage(Patterns.intake.submitMission, command));
      ids.push(missionId);
    }
    // exec() resolves with [error, reply] pairs: a failed XADD must not come back as a submitted id.
    const replies = await pipeline.exec();
    const failed = ids.filter((_, i) => !replies || replies[i]?.[0]);
    if (failed.length > 0) {
      const written = ids.filter((id) => !failed.includes(id));
      throw new MissionSubmissionError([
        `${failed.length} of ${ids.length} submissions failed (${replies?.find(([error]) => error)?.[0]?.message ?? 'no reply'}); ` +
          `written: [${written.join(', ')}]; failed: [${failed.join(', ')}] — resubmitting with the same idempotency keys is safe`,
      ]);
    }
    return ids;
  }
}
