import { MaintenanceOutput, MaintenanceUrgency } from '@app/mission';
import { LlmMissionContext } from '../llm-client';
import { Rng } from '../prng';
import { GENERAL_CATEGORY, Job, MAINTENANCE_CATEGORIES } from './maintenance-categories';
import { recordField, shortFeedback, textField } from './payload-fields';

const LEVELS: readonly MaintenanceUrgency[] = ['low', 'medium', 'high', 'critical'];

/**
 * Plans by keyword category; a ticked safety flag lifts urgency to at least high. Flawed drafts
 * give one vague step and no parts, which the judge's step and parts criteria reject.
 */
export function draftMaintenance(context: LlmMissionContext, _rng: Rng, flawed: boolean): MaintenanceOutput {
  const p = context.payload;
  const text = `${context.title} ${context.description} ${textField(p, 'equipment') ?? ''}`.toLowerCase();
  const category = MAINTENANCE_CATEGORIES.find((c) => c.match.test(text)) ?? GENERAL_CATEGORY;
  const safetyIssue = p.safetyIssue === true;
  let level = LEVELS.indexOf(category.urgency) + (category.escalate?.test(text) ? 1 : 0);
  if (safetyIssue) level = Math.max(level, LEVELS.indexOf('high'));
  const job = jobOf(p);
  const safetyNotes = [...category.safetyNotes];
  if (safetyIssue && safetyNotes.length === 0) safetyNotes.push(`Cordon off ${job.location} until the repair is finished`);
  const steps = flawed ? ['Check the issue.'] : category.steps(job);
  const feedback = shortFeedback(context.feedback);
  if (feedback) steps.push(`Address the review feedback: ${feedback}`);
  return { urgency: LEVELS[Math.min(level, LEVELS.length - 1)], steps, safetyNotes, parts: flawed ? [] : category.parts(job) };
}

function jobOf(payload: Record<string, unknown>): Job {
  const room = textField(payload, 'roomNumber');
  const location = textField(payload, 'location') ?? (room ? `room ${room}` : 'the reported area');
  const asset = recordField(payload, 'asset');
  return { location, equipment: textField(payload, 'equipment') ?? textField(asset, 'name') ?? 'equipment' };
}
