import { Injectable, NotFoundException } from '@nestjs/common';
import { AppendCode, MissionStore } from '@app/event-store';
import { decideCreate, deduplicationKey, Mission, MissionCreateDto, MissionEvent, missionIdFor } from '@app/mission';
import { QueueStats, ReadyQueue } from '@app/mission-queue';
import { IntakeMetrics } from '../queue/intake-metrics';

export interface CreateOptions {
  /** Chosen by an internal sender; a new one otherwise. */
  missionId?: string;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface CreateOutcome {
  created: boolean;
  mission: Mission;
}

const ACTOR = 'intake';

@Injectable()
export class MissionIntakeService {
  constructor(
    private readonly store: MissionStore,
    private readonly queue: ReadyQueue,
    private readonly metrics: IntakeMetrics,
  ) {}

  /**
   * Records MissionCreated + MissionQueued, puts the mission in the ready queue and tells the
   * orchestrator, in one atomic step. A repeated create with the same idempotency key (or the
   * same ERP source record) returns the first mission instead.
   */
  async create(input: MissionCreateDto, options: CreateOptions = {}): Promise<CreateOutcome> {
    const now = new Date();
    const missionId = options.missionId ?? missionIdFor(input, options.idempotencyKey);
    const idempotencyKey = deduplicationKey(input, options.idempotencyKey);
    const result = await this.store.append(
      missionId,
      null,
      decideCreate(input, now),
      { actor: ACTOR, correlationId: options.correlationId, now },
      (mission) => [
        ...(idempotencyKey ? [{ kind: 'idempotency' as const, key: idempotencyKey }] : []),
        { kind: 'enqueue', score: this.queue.score(mission.priorityScore, now.getTime()), enqueuedAt: now.getTime(), level: mission.priority },
        { kind: 'count', counter: 'enqueued', by: 1 },
        { kind: 'nudge-orchestrator' },
      ],
    );
    if (result.code === AppendCode.Ok) {
      this.metrics.created.inc({ type: input.type, priority: input.priority });
      return { created: true, mission: result.mission };
    }
    if (result.code === AppendCode.Duplicate) return { created: false, mission: await this.get(result.missionId) };
    // The sender's id exists already: the command was delivered twice.
    if (result.code === AppendCode.VersionConflict) return { created: false, mission: await this.get(missionId) };
    throw new Error(`creating mission ${missionId} failed with code ${AppendCode[result.code]}`);
  }

  async get(missionId: string): Promise<Mission> {
    const mission = await this.store.load(missionId);
    if (!mission) throw new NotFoundException(`mission ${missionId} not found`);
    return mission;
  }

  async history(missionId: string): Promise<MissionEvent[]> {
    const events = await this.store.history(missionId);
    if (events.length === 0) throw new NotFoundException(`mission ${missionId} not found`);
    return events;
  }

  stats(): Promise<QueueStats> {
    return this.queue.stats();
  }
}

/**
 * The client's Idempotency-Key, else the ERP record the mission comes from: Odoo retries a
 * webhook with the same record, and that must not become a second mission.
 */
