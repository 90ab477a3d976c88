import { MAINTENANCE_URGENCIES, Mission } from '@app/mission';
import { CheckResult, CriterionChecks, met, missed, partly, textOf, textsOf } from './check-result';

/** Acute danger: the job must be at least high urgency even if nobody ticked safetyIssue. */
const ACUTE =
  /\bgas(leck|geruch|leitung)?\b|gas (leak|smell)|smoke|\brauch|burning|brandgeruch|spark|funken|stromschlag|electric shock|exposed wire|carbon monoxide|kohlenmonoxid/;
/** Hazards for whoever does the work: water, electricity, lifts. */
const HAZARDOUS = /leak|wasser|water|flood|elevator|\blift\b|aufzug|fahrstuhl|electric|elektr|\bstrom|socket|steckdose/;
const MIN_STEP_CHARS = 15;
const MIN_STEP_WORDS = 3;

export function checkMaintenance(mission: Mission, output: Record<string, unknown>): CriterionChecks {
  const text = `${mission.title} ${mission.description} ${textOf(mission.payload.equipment)}`.toLowerCase();
  const acute = mission.payload.safetyIssue === true || ACUTE.test(text);
  const relevant = acute || HAZARDOUS.test(text);
  return {
    urgency_consistent: urgencyConsistent(textOf(output.urgency), acute),
    safety_notes: relevant && textsOf(output.safetyNotes).length === 0 ? missed('the job is safety-relevant, but safetyNotes is empty') : met(),
    concrete_steps: concreteSteps(textsOf(output.steps)),
    parts_listed: textsOf(output.parts).length > 0 ? met() : missed('list the parts or materials to bring'),
  };
}

function urgencyConsistent(urgency: string, acute: boolean): CheckResult {
  if (!MAINTENANCE_URGENCIES.some((level) => level === urgency)) return missed('urgency must be low, medium, high or critical');
  if (acute && (urgency === 'low' || urgency === 'medium')) {
    return missed(`this is a safety issue, but urgency is "${urgency}"; use high or critical`);
  }
  return met();
}

function concreteSteps(steps: string[]): CheckResult {
  const concrete = steps.filter((step) => step.length >= MIN_STEP_CHARS && step.split(/\s+/).length >= MIN_STEP_WORDS).length;
  if (concrete >= 2) return met();
  if (concrete === 1) return partly(0.5, 'only one concrete step; give at least two full work instructions');
  return missed('give at least two concrete work steps');
}
