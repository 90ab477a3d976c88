import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Environment } from '@app/config';
import { AppendCode, MissionStore } from '@app/event-store';
import { ERASED_MARKER, MissionPersonalData } from '@app/guest-data';
import { RejectionCode } from '@app/messages';
import {
  canonicalJson,
  decideCreate,
  deduplicationKey,
  Mission,
  MissionCreateDto,
  MissionEvent,
  missionIdForKey,
  namedIdKey,
  missionTextProblem,
  personalValues,
  QueueStats,
  resolveSubjects,
  SubmitterScope,
  withValues,
} from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { ENVIRONMENT } from '@app/runtime';
import { IntakeMetrics } from '../queue/intake-metrics';
import { MissionCreateRefusedError } from './mission-create-refused.error';
import { missionNotFound } from './mission-not-found';
import { ServableSkills } from './servable-skills';

export interface CreateOptions {
  /** Who submits, recorded as the events' actor: the API key's name, or the stream's. */
  actor: string;
  /** Whose idempotency keys and source records these are (see SubmitterScope). */
  scope: SubmitterScope;
  /** Chosen by an internal sender; a new one otherwise. */
  missionId?: string;
  /** The id for a create without a key or source, instead of a new one (a stream entry's: missionIdForStreamEntry). */
  idWithoutKey?: string;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface CreateOutcome {
  created: boolean;
  mission: Mission;
}

@Injectable()
export class MissionIntakeService {
  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly store: MissionStore,
    private readonly queue: ReadyQueue,
    private readonly metrics: IntakeMetrics,
    private readonly servable: ServableSkills,
    private readonly personal: MissionPersonalData,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /**
   * Records MissionCreated + MissionQueued, puts the mission in the ready queue and tells the
   * orchestrator, in one atomic step. A repeated create with the same idempotency key (or the
   * same ERP source record), in the sender's scope, returns the first mission instead; with
   * another body, or once the key's record has expired, it is refused (MissionCreateRefusedError).
   * A stream command's own `missionId` is checked the same way (namedIdKey): the same body again is
   * a redelivery, another body is refused. Past the record's life (or for an id no record claims:
   * a mission made over REST, or keyless from the stream) it is a redelivery only when the mission
   * is this sender's create of the same body (createdAs); anything else under that id is refused.
   */
  async create(input: MissionCreateDto, options: CreateOptions): Promise<CreateOutcome> {
    const tooLong = missionTextProblem(input, this.env.MAX_MISSION_TEXT_BYTES);
    if (tooLong) throw new MissionCreateRefusedError(tooLong);
    const now = new Date();
    const idempotencyKey = deduplicationKey(options.scope, input, options.idempotencyKey);
    const derivedId = idempotencyKey ? missionIdForKey(idempotencyKey) : (options.idWithoutKey ?? uuidv7());
    // The key is checked in the partition of the mission's id, so with a key the id must be the one it derives.
    if (options.missionId && idempotencyKey && options.missionId !== derivedId) {
      throw new MissionCreateRefusedError(
        `missionId ${options.missionId} is not the id its idempotency key or source record derives (${derivedId}; see missionIdFor)`,
      );
    }
    const missionId = options.missionId ?? derivedId;
    const refusal = await this.servable.refusal(input);
    const subjects = resolveSubjects(input, missionId);
    // Only an id derived from a key or a source record, or named by the sender, can exist already;
    // it is looked up only where that matters: a refused create, or one that would make keys.
    const mayExist = idempotencyKey !== undefined || options.missionId !== undefined || options.idWithoutKey !== undefined;
    const repeat = mayExist && (refusal !== null || subjects.length > 0) && (await this.store.exists(missionId));
    // A repeat of a mission that exists is answered as a repeat, even if no agent has its skills any more.
    if (refusal && !repeat) throw new MissionCreateRefusedError(refusal, RejectionCode.NoAgentHasSkills);
    // After every check and before anything is written: events, read model and messages hold only
    // tokens. A repeat writes nothing, and makes no key for a subject erased since the first create.
    const sealed = repeat ? this.personal.createWithoutPersonalData(subjects, input) : await this.personal.sealCreate(missionId, subjects, input);
    // A sender's own id claims a record too: a repeat is then told from another body under that id.
    const recordKey = idempotencyKey ?? (options.missionId ? namedIdKey(options.missionId) : undefined);
    const result = await this.pipeline.append(missionId, null, decideCreate({ ...sealed, subjects }, now), {
      actor: options.actor,
      correlationId: options.correlationId,
      now,
      ...(recordKey ? { idempotency: { key: recordKey, ...this.personal.fingerprintsOfCreate(input), ttlMs: this.env.IDEMPOTENCY_TTL_SECONDS * 1000 } } : {}),
    });
    if (result.code === AppendCode.Ok) {
      this.metrics.created.inc({ type: input.type, priority: input.priority });
      return { created: true, mission: result.mission };
    }
    if (result.code === AppendCode.Duplicate) return { created: false, mission: await this.get(result.missionId) };
    if (result.code === AppendCode.IdempotencyMismatch && !idempotencyKey) {
      throw new MissionCreateRefusedError(`missionId ${missionId} was submitted before with another body; a new mission needs a new missionId`);
    }
    if (result.code === AppendCode.IdempotencyMismatch) {
      throw new MissionCreateRefusedError(
        `this idempotency key (or source record) was used for mission ${result.missionId} with another body; use a new key for a new mission`,
      );
    }
    // A sender's id with no record (expired, or from before ids claimed one): a redelivery only of this sender's own create.
    if (result.code === AppendCode.IdempotencyExpired && !idempotencyKey) {
      if (await this.createdAs(missionId, options.actor, { ...input, subjects })) return { created: false, mission: await this.get(missionId) };
      throw new MissionCreateRefusedError(
        `missionId ${missionId} names a mission this command did not create (made by another sender, or from another body); a new mission needs a new missionId`,
      );
    }
    if (result.code === AppendCode.IdempotencyExpired) {
      throw new MissionCreateRefusedError(
        `this idempotency key (or source record) named mission ${result.missionId}, and its record expired (IDEMPOTENCY_TTL_SECONDS ${this.env.IDEMPOTENCY_TTL_SECONDS}); use a new key`,
      );
    }
    // The id named after the stream entry exists already: the entry was delivered twice.
    if (result.code === AppendCode.VersionConflict) return { created: false, mission: await this.get(missionId) };
    throw new Error(`creating mission ${missionId} failed with code ${AppendCode[result.code]}`);
  }

  /**
   * Whether the mission was created by `actor` from this body: its MissionCreated, opened, is the one
   * this create would record (canonicalJson, as a body's fingerprint compares it). A mission made
   * over REST, or from another body, is not. A field of it that reads `[erased]` (its guest erased
   * since) is compared as erased: the rest of the body still tells the sender's own create.
   */
  private async createdAs(missionId: string, actor: string, input: MissionCreateDto): Promise<boolean> {
    const first = await this.store.firstEvent(missionId);
    if (first?.type !== 'MissionCreated' || first.actor !== actor) return false;
    const [created] = decideCreate(input);
    const opened = (await this.personal.openEvent(first)).data;
    const erased = personalValues(input.type, 'input', opened).filter(({ value }) => value === ERASED_MARKER);
    return canonicalJson(opened) === canonicalJson(withValues(created.data, erased));
  }

  async get(missionId: string): Promise<Mission> {
    const mission = await this.store.load(missionId);
    if (!mission) throw missionNotFound(missionId);
    return mission;
  }

  async history(missionId: string): Promise<MissionEvent[]> {
    const events = await this.store.history(missionId);
    if (events.length === 0) throw missionNotFound(missionId);
    return events;
  }

  /**
   * The mission's events, and how many its event list names (read first: see MissionStore.listedEvents),
   * which tells a deleted last event.
   */
  async historyAndListed(missionId: string): Promise<{ events: MissionEvent[]; listed: number }> {
    const listed = await this.store.listedEvents(missionId);
    return { events: await this.history(missionId), listed };
  }

  stats(): Promise<QueueStats> {
    return this.queue.stats();
  }
}
