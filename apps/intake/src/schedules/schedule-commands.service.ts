import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { Environment } from '@app/config';
import { RejectionCode } from '@app/messages';
import { checkMissionCreate, givenFields, MissionCreateDto, missionTextProblem, namesGuestId, personalValues } from '@app/mission';
import { ENVIRONMENT } from '@app/runtime';
import { FieldErrorBody, invalid, missionCreateDetails } from '../http/request-validation.pipe';
import { MissionCreateRefusedError } from '../missions/mission-create-refused.error';
import { ServableSkills } from '../missions/servable-skills';
import { CreateScheduleBody } from './create-schedule.body';
import { ScheduleEvent, ScheduleRecord } from './schedule-events';
import { ScheduleFiringService } from './schedule-firing.service';
import { ScheduleRegistry, ScheduleVersionConflictError } from './schedule-registry';
import { nextDueOf, scheduleTimingProblem } from './schedule-timing';

/** A schedule as the API shows it: the record and when it fires next. */
export interface ScheduleView extends ScheduleRecord {
  nextDueAt: string | null;
}

/** Template fields that are absolute times: every firing would carry the same one. */
const ABSOLUTE_TIMES = ['deadline', 'notBefore'] as const;

/**
 * The template's fields that would make its missions hold a guest's data: subjects it names, a
 * guest id, and the personal fields (PERSONAL_FIELDS) that hold anything. A template is stored in
 * plain, outside every subject's key, and would bring the data back with each firing after the
 * guest's erasure.
 */
function guestDataIn(template: MissionCreateDto): string[] {
  return [
    ...(template.subjects?.length ? ['subjects'] : []),
    ...(namesGuestId(template.payload) ? ['payload.guest.id'] : []),
    ...personalValues(template.type, 'input', template).map(({ path }) => path),
  ];
}

/** What the schedules API does: checks a schedule completely before anything is stored. */
@Injectable()
export class ScheduleCommandsService {
  constructor(
    private readonly schedules: ScheduleRegistry,
    private readonly firing: ScheduleFiringService,
    private readonly servable: ServableSkills,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  async create(body: CreateScheduleBody, actor: string): Promise<ScheduleView> {
    const details: FieldErrorBody[] = [];
    const checked = checkMissionCreate(body.template, 'template');
    if (!checked.ok) details.push(...missionCreateDetails(body, checked.problems));
    // As in a create, null is a field left out.
    for (const field of ABSOLUTE_TIMES) {
      if (body.template[field] !== undefined && body.template[field] !== null)
        details.push({ field: `template.${field}`, problems: [`a schedule's template may not have ${field}: it is an absolute time`] });
    }
    const guestData = checked.ok ? guestDataIn(checked.value) : [];
    if (guestData.length > 0) {
      details.push({
        field: 'template',
        problems: [`a schedule's template is stored in plain and fires again after an erasure, so it may not hold guest data: ${guestData.join(', ')}`],
      });
    }
    const tooLong = checked.ok ? missionTextProblem(checked.value, this.env.MAX_MISSION_TEXT_BYTES) : null;
    if (tooLong) details.push({ field: 'template', problems: [tooLong] });
    const scheduleId = this.schedules.newId();
    const timing = scheduleTimingProblem(body.cron, body.timeZone, scheduleId);
    if (timing) details.push({ field: timing.field, problems: [timing.problem] });
    if (!checked.ok || details.length > 0) throw invalid(details);
    // As POST /api/missions refuses the template's mission: every firing would be refused and skipped.
    const unservable = await this.servable.refusal(checked.value);
    if (unservable) throw new MissionCreateRefusedError(unservable, RejectionCode.NoAgentHasSkills);
    const record = await this.schedules.create(
      scheduleId,
      { cron: body.cron, timeZone: body.timeZone, template: givenFields(checked.value), catchUpMs: body.catchUpMs ?? null },
      actor,
    );
    return this.view(record);
  }

  /**
   * Once this has answered, the schedule creates no mission any more; a mission that a firing
   * created while the delete ran is recorded (ScheduleFired) before ScheduleDeleted.
   */
  async delete(scheduleId: string, actor: string): Promise<ScheduleView> {
    const record = await this.schedules.record(scheduleId);
    if (!record) throw new NotFoundException(`schedule ${scheduleId} not found`);
    try {
      // ScheduleDeleted lands after the withdrawal: a firing that read this version may be about to create its mission.
      return this.view(await this.firing.withNextFiringWithdrawn(record, (createdFirst) => this.schedules.delete(record, createdFirst, actor)));
    } catch (error) {
      // A firing was recorded between the read and the delete.
      if (error instanceof ScheduleVersionConflictError) throw new ConflictException(error.message);
      throw error;
    }
  }

  async get(scheduleId: string): Promise<ScheduleView> {
    const record = await this.schedules.record(scheduleId);
    if (!record) throw new NotFoundException(`schedule ${scheduleId} not found`);
    return this.view(record);
  }

  async list(): Promise<ScheduleView[]> {
    return (await this.schedules.list()).map((record) => this.view(record));
  }

  async history(scheduleId: string): Promise<ScheduleEvent[]> {
    const events = await this.schedules.history(scheduleId);
    if (events.length === 0) throw new NotFoundException(`schedule ${scheduleId} not found`);
    return events;
  }

  private view(record: ScheduleRecord): ScheduleView {
    const next = nextDueOf(record);
    return { ...record, nextDueAt: next ? next.toISOString() : null };
  }
}
