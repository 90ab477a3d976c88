import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment, parseRetentionDays, RetentionDays } from '@app/config';
import { KeyLayout, MissionStore, PassedOverMissions, UnreadableStoredDataError } from '@app/event-store';
import {
  DAY_MS,
  isTerminal,
  Mission,
  MISSION_TYPES,
  MissionStatus,
  MissionType,
  RetainedMission,
  retentionVerdict,
  SERVICE_ACTORS,
  unerasedSubjects,
} from '@app/mission';
import { membersInOrder, RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { toErrorBody } from '../http/error-body.filter';
import { SubjectsService } from '../subjects/subjects.service';
import { RetentionMetrics, RetentionTrigger } from './retention-metrics';

/** The actor of the SubjectErased (and MissionCancelled) events the timer's retention rounds cause. */
export const RETENTION_ACTOR = SERVICE_ACTORS.retention;

/** When an intake's first round comes after its start (at most one period). */
const FIRST_ROUND_AFTER_MS = 60_000;

/** Mission ids read per page (one round trip) of a retention set. */
export const RETENTION_PAGE = 500;

/** A mission about a subject, as a retention plan shows it. */
export interface RetentionMissionView {
  missionId: string;
  type: MissionType;
  status: MissionStatus;
  /** When it finished; absent while it is unfinished. */
  finishedAt?: string;
}

/** A subject retention erases (or would erase), with the reason its SubjectErased events carry. */
export interface RetentionCandidate {
  subjectId: string;
  reason: string;
  missions: RetentionMissionView[];
}

/** A subject that has a mission past its retention (finished, or dead-lettered) but is kept, and why. */
export interface RetentionKept {
  subjectId: string;
  reason: string;
}

/** A mission past its days whose stored state cannot be read: the subjects it is about cannot be told. */
export interface RetentionPassedOver {
  missionId: string;
  /** Why it cannot be read, as UnreadableStoredDataError says it. */
  reason: string;
}

/** What a round finds at `at`: subjects to erase, those kept by another of their missions, and missions it could not read. */
export interface RetentionPlan {
  at: string;
  /** The days per type in force (RETENTION_DAYS with its defaults). */
  days: RetentionDays;
  erase: RetentionCandidate[];
  kept: RetentionKept[];
  /** Missions past their days that cannot be read, so neither erase nor kept can name their subjects; until `replay rebuild` mends them. */
  passedOver: RetentionPassedOver[];
}

export interface RetentionRun extends RetentionPlan {
  /** Subjects erased by this run (those of `erase` still past their retention when erased). */
  erased: string[];
  /** Subjects whose erasure failed; the next round tries again. */
  failed: { subjectId: string; error: string }[];
}

/** A survey: the plan, and the index entries that name no subject left to erase (a run drops them). */
interface Survey {
  plan: RetentionPlan;
  spent: { key: string; missionId: string }[];
}

/**
 * What a run answers for a subject whose erasure failed inside (Redis, a key record that does not
 * read): the cause may name keys or scripts, so it goes to the log only.
 */
export const NOT_ERASED = 'not erased: an internal error, which the intake logged; the next round tries again';

/**
 * Retention: erases the data subjects whose missions have ALL finished and are each past their own
 * type's RETENTION_DAYS (retentionVerdict), by the same erasure as `DELETE /api/subjects/{id}`,
 * with actor `retention` (the operator for a manual run) and reason `retention policy <days> days`. A round reads only the finished
 * missions past their type's days (the `retain` effect's sets, by finish time) and the dead letters
 * past them (by when they were dead-lettered; they keep their subjects, who are listed as kept),
 * then every mission of each subject they name. Every RETENTION_CHECK_MS one intake takes the turn (a Redis key held
 * for 90 % of the period) and runs the round; the others skip it. `plan` is the dry run: it reads
 * and changes nothing.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly days: RetentionDays;
  private readonly instance = randomUUID();
  private readonly task: PeriodicTask;
  /** A mission whose stored state cannot be read: passed over, named once; a subject it is about is kept. */
  private readonly passedOver: PassedOverMissions;

  constructor(
    private readonly store: MissionStore,
    private readonly keys: KeyLayout,
    private readonly subjects: SubjectsService,
    private readonly metrics: RetentionMetrics,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(RetentionService.name) private readonly logger: PinoLogger,
  ) {
    this.days = parseRetentionDays(env.RETENTION_DAYS);
    this.passedOver = new PassedOverMissions('the retention round', (message) => this.logger.warn(message));
    this.task = new PeriodicTask(
      () => this.round(),
      (error) => this.logger.error({ err: error }, 'retention round failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    // The first round a minute after the start: intakes redeployed more often than the period
    // (hourly) still run rounds; the turn, held for most of a period, keeps them to one per period.
    this.task.start(this.env.RETENTION_CHECK_MS, Math.min(FIRST_ROUND_AFTER_MS, this.env.RETENTION_CHECK_MS));
  }

  /** Before the Redis connection closes (shutdown hooks run after destroy hooks). */
  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** The dry run: what a round at `now` would erase, and what it keeps and why. Changes nothing. */
  async plan(now = new Date()): Promise<RetentionPlan> {
    return (await this.survey(now)).plan;
  }

  /** A manual round at `now` (POST /api/retention/run, `ctl retention`), by `actor`: see erase. */
  async run(now = new Date(), actor: string = RETENTION_ACTOR): Promise<RetentionRun> {
    return this.counted('manual', () => this.erase(now, actor));
  }

  /**
   * The timer's round: run only by the intake that takes the turn (held for 90 % of the period, so
   * that intakes whose timers are offset do not each run one per period); null for the others.
   */
  async round(now = new Date()): Promise<RetentionRun | null> {
    const turnMs = Math.floor(this.env.RETENTION_CHECK_MS * 0.9);
    if ((await this.redis.set(this.keys.retentionTurn, this.instance, 'PX', turnMs, 'NX')) !== 'OK') {
      this.metrics.rounds.inc({ trigger: 'timer', outcome: 'skipped' });
      return null;
    }
    const result = await this.counted('timer', () => this.erase(now, RETENTION_ACTOR));
    if (result.erased.length > 0 || result.failed.length > 0) {
      this.logger.info({ erased: result.erased.length, failed: result.failed.length, kept: result.kept.length }, 'retention round done');
    }
    return result;
  }

  /** A round, counted by what started it: a manual run erases as much as a timer's, so /metrics must show it too. */
  private async counted(trigger: RetentionTrigger, round: () => Promise<RetentionRun>): Promise<RetentionRun> {
    try {
      const result = await round();
      this.metrics.rounds.inc({ trigger, outcome: 'done' });
      return result;
    } catch (error) {
      this.metrics.rounds.inc({ trigger, outcome: 'failed' });
      throw error;
    }
  }

  /**
   * A round at `now`: erases every subject of the plan, each checked again just before. `actor`
   * is who ran it: `retention` for the timer's rounds, the operator for a manual run, so the log
   * says who decided it; the reason still names the policy.
   */
  private async erase(now: Date, actor: string): Promise<RetentionRun> {
    const { plan, spent } = await this.survey(now);
    const erased: string[] = [];
    const failed: RetentionRun['failed'] = [];
    for (const candidate of plan.erase) {
      try {
        // A new mission about the subject since the survey (the guest wrote again) keeps it.
        const verdict = retentionVerdict(await this.missionsAbout(candidate.subjectId), this.days, now.getTime());
        if (!verdict.erase) {
          plan.kept.push({ subjectId: candidate.subjectId, reason: verdict.reason });
          continue;
        }
        // The erasure of DELETE /api/subjects/{id}: recorded as pending, the key destroyed, then SubjectErased on each mission.
        const erasure = await this.subjects.erase(candidate.subjectId, verdict.reason, actor);
        // Erased meanwhile by another round or a DELETE, which it reports: not this round's to list, count or log.
        if (!erasure.keyDestroyed && !erasure.missions.some((mission) => mission.recorded)) continue;
        erased.push(candidate.subjectId);
        this.metrics.erased.inc();
        this.logger.info({ subjectId: candidate.subjectId, reason: verdict.reason, actor, missions: candidate.missions.length }, 'subject erased by retention');
      } catch (error) {
        // As the API would answer it: a 4xx says why, anything else is internal (the cause is in the log).
        const answer = toErrorBody(error);
        failed.push({ subjectId: candidate.subjectId, error: answer.statusCode < 500 ? answer.message : NOT_ERASED });
        this.logger.error({ err: error, subjectId: candidate.subjectId }, 'retention could not erase a subject; the next round tries again');
      }
    }
    for (const { key, missionId } of spent) await this.redis.zrem(key, missionId);
    return { ...plan, erase: plan.erase.filter((candidate) => erased.includes(candidate.subjectId)), erased, failed };
  }

  private async survey(now: Date): Promise<Survey> {
    const subjects = new Set<string>();
    const spent: Survey['spent'] = [];
    const passedOver: RetentionPassedOver[] = [];
    const pastDays = (type: MissionType) => now.getTime() - this.days[type] * DAY_MS;
    for (const partition of this.keys.partitions) {
      for (const type of MISSION_TYPES) {
        const key = partition.retention(type);
        for await (const [missionId] of this.scoredUntil(key, pastDays(type))) {
          const mission = await this.readOrPassOver(missionId, passedOver);
          if (mission === undefined) continue;
          const left = unerasedSubjects(mission);
          if (left.length === 0) spent.push({ key, missionId });
          for (const subject of left) subjects.add(subject);
        }
      }
      // A dead letter is not finished (an operator may requeue it), so it is in no retention set and
      // keeps its subjects; one past its type's days puts them in `kept`, which names it, or a guest
      // whose only mission it is would be in neither list, kept for good without a word. Read up to
      // the shortest days of any type, then each held to its own type's (an unreadable one, whose
      // type cannot be told, is passed over from the shortest on).
      const pastShortestDays = Math.max(...MISSION_TYPES.map(pastDays));
      for await (const [missionId, deadLetteredAt] of this.scoredUntil(partition.deadLetters, pastShortestDays)) {
        const mission = await this.readOrPassOver(missionId, passedOver);
        if (!mission || deadLetteredAt > pastDays(mission.type)) continue;
        for (const subject of unerasedSubjects(mission)) subjects.add(subject);
      }
    }
    const plan: RetentionPlan = { at: now.toISOString(), days: this.days, erase: [], kept: [], passedOver };
    for (const subjectId of [...subjects].sort()) {
      const missions = await this.missionsAbout(subjectId).catch(unreadableAsValue);
      // Whether every mission about the subject is over cannot be told without that one: kept, for a round after `replay rebuild`.
      if (missions instanceof UnreadableStoredDataError) {
        this.passedOver.note(missions);
        plan.kept.push({ subjectId, reason: `${missions.message}, so whether its missions are past their days cannot be told` });
        continue;
      }
      const verdict = retentionVerdict(missions, this.days, now.getTime());
      if (verdict.erase) plan.erase.push({ subjectId, reason: verdict.reason, missions: missions.map(view) });
      else plan.kept.push({ subjectId, reason: verdict.reason });
    }
    return { plan, spent };
  }

  /**
   * The members of a sorted set scored up to `until` (ms), with their scores, a page at a time. A
   * survey removes nothing meanwhile, but others may (a dead letter requeued or cancelled, the
   * entries another round drops at its end): each page is read on after the last member of the one
   * before (membersInOrder). Read by offset, each such removal let the next page skip a member,
   * whose subjects waited for the next round.
   */
  private async *scoredUntil(key: string, until: number): AsyncGenerator<[string, number]> {
    for await (const [member, score] of membersInOrder(this.redis, key, { end: String(until), pageSize: RETENTION_PAGE })) yield [member, Number(score)];
  }

  /**
   * A mission past its days as a survey reads it; undefined when its stored state cannot be read.
   * Then it is neither spent nor anyone's until `replay rebuild` has mended it, and listed in
   * `passedOver`, as its subjects cannot be: a guest whose only such mission it is would be in
   * neither erase nor kept.
   */
  private async readOrPassOver(missionId: string, passedOver: RetentionPassedOver[]): Promise<Mission | null | undefined> {
    const mission = await this.store.load(missionId).catch(unreadableAsValue);
    if (mission instanceof UnreadableStoredDataError) {
      this.passedOver.note(mission);
      passedOver.push({ missionId, reason: mission.message });
      return undefined;
    }
    this.passedOver.readable(missionId);
    return mission;
  }

  /** Every mission that still holds data about the subject (those it was erased from left out), with when it finished. */
  private async missionsAbout(subjectId: string): Promise<RetainedMission[]> {
    const missions: RetainedMission[] = [];
    // As an access request reads them: a mission in the subject's set that is not about the subject
    // (a damaged index) must neither keep nor decide the subject's erasure.
    for (const mission of await this.subjects.missionsAbout(subjectId)) {
      // Read fine: mended since it was passed over, it is named again should it break once more.
      this.passedOver.readable(mission.id);
      if (mission.erasedSubjects?.includes(subjectId)) continue;
      let finishedAt: number | undefined;
      let deadLetteredAt: number | undefined;
      if (isTerminal(mission.status)) {
        // Finished before it was indexed (an import): its last change is when it finished, or later.
        finishedAt = await this.scoreOr(this.keys.of(mission.id).retention(mission.type), mission);
      } else if (mission.status === 'dead_lettered') {
        deadLetteredAt = await this.scoreOr(this.keys.of(mission.id).deadLetters, mission);
      }
      missions.push({ missionId: mission.id, type: mission.type, status: mission.status, finishedAt, deadLetteredAt });
    }
    return missions;
  }

  /** The mission's score in `key` (ms), or its last change when it is not there: the time it got there, or later. */
  private async scoreOr(key: string, mission: Mission): Promise<number> {
    const score = await this.redis.zscore(key, mission.id);
    return score === null ? Date.parse(mission.updatedAt) : Number(score);
  }
}

/** A failure to read a mission's stored data as a value, to pass the mission over; any other failure is thrown on. */
function unreadableAsValue(error: unknown): UnreadableStoredDataError {
  if (error instanceof UnreadableStoredDataError) return error;
  throw error;
}

/** A retained mission as the plan shows it, its finish as an ISO time. */
function view(mission: RetainedMission): RetentionMissionView {
  const { missionId, type, status, finishedAt } = mission;
  return { missionId, type, status, ...(finishedAt === undefined ? {} : { finishedAt: new Date(finishedAt).toISOString() }) };
}
