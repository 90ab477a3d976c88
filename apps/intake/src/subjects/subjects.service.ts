import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { KeyLayout, MissionStore } from '@app/event-store';
import { GuestDataError, MissionPersonalData } from '@app/guest-data';
import { decideEraseSubject, Mission, MissionType, PathValue, personalValues, UNAVAILABLE_MARKER } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { toErrorBody } from '../http/error-body.filter';
import { eventWithPersonalFieldsAs, missionWithPersonalFieldsAs } from '../http/redacted-personal-data';
import { isUnopenableGuestData } from '../http/unavailable-guest-data';
import { PendingErasure, PendingErasures } from './pending-erasures';

export interface ErasedMission {
  missionId: string;
  recorded: boolean;
  status?: Mission['status'];
}

export interface SubjectErasure {
  subjectId: string;
  keyDestroyed: boolean;
  missions: ErasedMission[];
}

/** One of the subject's missions in their access document. */
export interface SubjectMissionAccess {
  mission: Mission;
  personalData: { field: string; value: unknown }[];
  /**
   * Present when some of the mission's guest data cannot be opened (altered where it is stored):
   * those fields read UNAVAILABLE_MARKER, and this is the `unavailable` the API shows the mission with (ShownMission).
   */
  unavailable?: string;
}

export interface SubjectAccess {
  subjectId: string;
  generatedAt: string;
  erased: boolean;
  missions: SubjectMissionAccess[];
}

/** What could be opened of a mission's guest data, the rest UNAVAILABLE_MARKER, and the first failure that kept it closed. */
interface Opened<T> {
  value: T;
  failure?: GuestDataError;
}

/**
 * A data subject's rights over the missions about them: erasure (recorded as pending, the key
 * destroyed, then SubjectErased on each mission) and access (everything held, in plain, as one
 * document).
 */
/**
 * A 404 for a subject nobody knows. A guest's subject is `guest:<id>`, not the bare id the guest
 * has in the hotel's systems: a request for `4711` says so.
 */
function subjectNotFound(subjectId: string): NotFoundException {
  const hint = subjectId.includes(':') ? '' : ` (a guest named in a mission's payload.guest.id is the subject guest:${subjectId})`;
  return new NotFoundException(`subject ${subjectId} not found${hint}`);
}

@Injectable()
export class SubjectsService {
  private readonly logger = new Logger(SubjectsService.name);

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly store: MissionStore,
    private readonly pipeline: MissionPipeline,
    private readonly personal: MissionPersonalData,
    private readonly pending: PendingErasures,
  ) {}

  /**
   * Records the erasure as pending (actor, reason; no personal data), then destroys the subject's
   * data key, so whatever happens after (a crash, a failed append) nothing about the subject can be
   * read again, then records SubjectErased on each of its missions, cancelling those not finished,
   * and drops the pending record. What a crash leaves undone the erasure sweep (finishPending) or a
   * repeated request finishes, with the actor and reason of the erasure that was pending; nothing
   * else changes. An unknown subject (no key, no mission) is a 404.
   */
  async erase(subjectId: string, reason: string, actor: string): Promise<SubjectErasure> {
    const about = await this.missionsAbout(subjectId);
    if (about.length === 0 && !(await this.personal.cipher.store.has(subjectId)) && !(await this.pending.read(subjectId))) {
      throw subjectNotFound(subjectId);
    }
    return this.complete(await this.pending.mark(subjectId, actor, reason));
  }

  /**
   * Finishes every erasure requested at `requestedBefore` or earlier that is still pending, i.e.
   * that a crash interrupted (the key maybe destroyed, events missing): what the intake's erasure
   * sweep runs every ERASURE_SWEEP_MS. One that fails stays for the next run.
   */
  async finishPending(requestedBefore: Date): Promise<{ finished: SubjectErasure[]; failed: { subjectId: string; error: unknown }[] }> {
    const finished: SubjectErasure[] = [];
    const failed: { subjectId: string; error: unknown }[] = [];
    for (const erasure of await this.pending.list(requestedBefore)) {
      try {
        finished.push(await this.complete(erasure));
      } catch (error) {
        failed.push({ subjectId: erasure.subjectId, error });
      }
    }
    return { finished, failed };
  }

  /**
   * The key destroyed (again: idempotent), SubjectErased on each mission, then the pending record
   * dropped. The key is destroyed again after each round of missions, and the missions read again,
   * until no new one turns up: a create that made a new key between the destruction and the read
   * of the missions is erased with the others, and its key with it (it used to outlive the erasure,
   * and open the create's events).
   */
  private async complete(erasure: PendingErasure): Promise<SubjectErasure> {
    const { subjectId, reason, actor } = erasure;
    let keyDestroyed = false;
    const missions: ErasedMission[] = [];
    const seen = new Set<string>();
    for (;;) {
      keyDestroyed = (await this.personal.cipher.erase(subjectId)) || keyDestroyed;
      // Read after the key is gone: a mission created until then is erased with the others.
      // Only missions about the subject: another guest's mission in its set is not theirs to erase,
      // nor to list in the answer.
      const fresh = (await this.missionsAbout(subjectId))
        .map((mission) => mission.id)
        .filter((missionId) => !seen.has(missionId))
        .sort();
      if (fresh.length === 0) break;
      // One after the other: each is one atomic append; the number of a guest's missions is small.
      for (const missionId of fresh) {
        seen.add(missionId);
        const outcome = await this.pipeline.transition(missionId, (mission) => decideEraseSubject(mission, subjectId, reason), { actor });
        const status = outcome.kind === 'appended' || outcome.kind === 'skipped' ? outcome.mission.status : undefined;
        missions.push({ missionId, recorded: outcome.kind === 'appended', ...(status ? { status } : {}) });
      }
    }
    await this.pending.clear(erasure);
    return { subjectId, keyDestroyed, missions };
  }

  /**
   * Every mission about the subject and every personal field in it, opened: the answer to an
   * access request. Besides what each mission holds now, the outputs of its earlier attempts (a
   * reply the judge failed or a reviewer sent back): a later result replaces them in the mission,
   * but the log keeps them, readable with the subject's key.
   */
  async access(subjectId: string): Promise<SubjectAccess> {
    const loaded = await this.missionsAbout(subjectId);
    const hasKey = await this.personal.cipher.store.has(subjectId);
    if (loaded.length === 0 && !hasKey) throw subjectNotFound(subjectId);
    loaded.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const missions = await Promise.all(loaded.map((stored) => this.accessEntry(stored)));
    return { subjectId, generatedAt: new Date().toISOString(), erased: !hasKey, missions };
  }

  /**
   * One mission of the access document. Its guest data that cannot be opened (isUnopenableGuestData:
   * altered where it is stored) reads UNAVAILABLE_MARKER, in the mission and in its personalData, as
   * a list shows such a mission, and `unavailable` says why: one such mission made the whole
   * document a 500, and no access request of that guest could be answered.
   */
  private async accessEntry(stored: Mission): Promise<SubjectMissionAccess> {
    const [mission, earlier] = await Promise.all([this.openedMission(stored), this.earlierOutputs(stored)]);
    const personalData = [...personalFieldsOf(mission.value), ...earlier.value].map(({ path, value }) => ({ field: path, value }));
    const failure = mission.failure ?? earlier.failure;
    if (!failure) return { mission: mission.value, personalData };
    this.logger.error(
      `an access document met mission ${stored.id}, whose guest data cannot be opened (${failure.code}): ${failure.message}; it reads ${UNAVAILABLE_MARKER}`,
    );
    return { mission: mission.value, personalData, unavailable: toErrorBody(failure).message };
  }

  private async openedMission(stored: Mission): Promise<Opened<Mission>> {
    try {
      return { value: await this.personal.openMission(stored) };
    } catch (error) {
      if (!isUnopenableGuestData(error)) throw error;
      return { value: missionWithPersonalFieldsAs(stored, UNAVAILABLE_MARKER), failure: error };
    }
  }

  /**
   * The personal fields of every agent output the mission no longer holds, as
   * `events.<version>.result.output.<field>` (its MissionCompleted's version: attempt numbers start
   * again after a requeue). The mission holds the last one while it has a result (as its result, or
   * as the original a reviewer replaced); a next attempt, or a requeue, clears the result. Each
   * output opened apart, so one altered reads UNAVAILABLE_MARKER and the others in plain.
   */
  private async earlierOutputs(mission: Mission): Promise<Opened<PathValue[]>> {
    const completed = (await this.store.history(mission.id)).filter((event) => event.type === 'MissionCompleted');
    const earlier = mission.result ? completed.slice(0, -1) : completed;
    let failure: GuestDataError | undefined;
    const opened = (await this.personal.openEachEvent(earlier)).map((result, i) => {
      if (result.status === 'fulfilled') return result.value;
      if (!isUnopenableGuestData(result.reason)) throw result.reason;
      failure ??= result.reason;
      return eventWithPersonalFieldsAs(earlier[i], UNAVAILABLE_MARKER);
    });
    const value = opened.flatMap((event) =>
      event.type === 'MissionCompleted' ? outputFields(mission.type, event.data.result.output, `events.${event.version}.result.output.`) : [],
    );
    return { value, failure };
  }

  /**
   * The missions about the subject: those of its index (one set per partition, written with each
   * create; partition by partition, each by id) whose own `subjects`, folded from their create, name
   * it. The index is a read model and can be damaged (a stray SADD, a bad import); answering from it
   * alone would hand one guest another guest's data. A mission it names that is not about the
   * subject is left out and logged, as damage `replay verify` reports and `replay rebuild` repairs.
   */
  async missionsAbout(subjectId: string): Promise<Mission[]> {
    const sets = await Promise.all(this.keys.partitions.map((partition) => this.redis.smembers(partition.subjectMissions(subjectId))));
    const ids = [...new Set(sets.flatMap((set) => set.sort()))];
    const loaded = await Promise.all(ids.map((id) => this.store.load(id)));
    const about: Mission[] = [];
    loaded.forEach((mission, i) => {
      if (!mission) return;
      if (mission.subjects?.includes(subjectId)) about.push(mission);
      else {
        this.logger.warn(
          `the subject index of ${subjectId} names mission ${ids[i]}, which is not about ${subjectId}: left out (read-model damage; run replay verify, then replay rebuild)`,
        );
      }
    });
    return about;
  }
}

/** The personal fields a mission holds: of its create, its result, and the agent's output a reviewer replaced. */
function personalFieldsOf(mission: Mission): PathValue[] {
  return [
    ...personalValues(mission.type, 'input', mission),
    ...outputFields(mission.type, mission.result?.output, 'result.output.'),
    ...outputFields(mission.type, mission.review?.originalOutput, 'review.originalOutput.'),
  ];
}

/** The personal fields of an output of a mission of `type`, their paths under `prefix`. */
function outputFields(type: MissionType, output: Record<string, unknown> | undefined, prefix: string): PathValue[] {
  return output ? personalValues(type, 'output', output).map(({ path, value }) => ({ path: prefix + path, value })) : [];
}
