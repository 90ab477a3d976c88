import { LlmMissionContext } from '../llm-client';
import { MaintenanceOutput, MaintenanceUrgency } from '../output-schemas';
import { Rng } from '../prng';
import { recordField, shortFeedback, textField } from './payload-fields';

interface Job {
  location: string;
  equipment: string;
}

interface Category {
  match: RegExp;
  urgency: MaintenanceUrgency;
  /** Makes the job one level more urgent, e.g. a flood rather than a drip. */
  escalate?: RegExp;
  steps: (job: Job) => string[];
  safetyNotes: string[];
  parts: string[];
}

/**
 * First match wins, most dangerous first; inspections come before water so "Legionellenprüfung
 * Warmwasser" is planned as an inspection. `\bgas` alone would also match the German "Gast".
 * Every category except `general` carries safety notes, so anything that smells of water,
 * electricity, lifts or fire gets them.
 */
const CATEGORIES: readonly Category[] = [
  {
    match: /\bgas(leck|geruch|leitung|herd|therme)?\b|gas (leak|smell)|carbon monoxide|kohlenmonoxid|\bco[- ](alarm|melder)/,
    urgency: 'critical',
    steps: (j) => [`Evacuate guests and staff from ${j.location} and the neighbouring rooms`, 'Shut off the main gas valve for the affected section', 'Ventilate the area without operating any electrical switches', 'Call the gas utility emergency line and the certified gas fitter', 'Have the line pressure-tested before the area is released again'],
    safetyNotes: ['No open flames, smoking or electrical switches near the leak', 'Keep everyone out until the gas fitter releases the area'],
    parts: ['Gas leak detection spray', 'Replacement valve seals', 'Portable gas detector'],
  },
  {
    match: /spark|funken|socket|steckdose|electric|elektr|\bstrom|power outage|short circuit|kurzschluss|exposed wire|\bkabel|\bfuse|sicherung/,
    urgency: 'high',
    escalate: /burning|brandgeruch|schmor|smoke|\brauch|stromschlag|electric shock|exposed wire/,
    steps: (j) => [`Switch off and lock out the circuit feeding ${j.location}`, `Inspect the ${j.equipment} and its wiring for scorch marks and loose terminals`, 'Replace the damaged socket or wiring section and re-tighten all terminals', 'Test the circuit and the RCD before switching the power back on'],
    safetyNotes: ['Work only on a de-energised, locked-out circuit', 'Only a qualified electrician may open the installation'],
    parts: ['Replacement socket outlet', 'Connector terminals', 'RCD tester'],
  },
  {
    match: /smoke|\brauch|burning|brandgeruch|verbrannt|schmor|\bfire\b|\bfeuer|flames|flammen/,
    urgency: 'high',
    escalate: /burning|brandgeruch|schmor|smoke (coming|from)|rauchentwicklung|flames|flammen/,
    steps: (j) => [`Locate the source of the smoke or burning smell in ${j.location}`, 'Isolate the power to the affected circuit or appliance', `Test the ${j.equipment} and replace the detector head or battery if it is faulty`, 'Document the finding and brief the duty manager and the fire safety officer'],
    safetyNotes: ['Never silence or disable the fire alarm system without the fire safety officer', 'Keep a CO2 extinguisher at hand while inspecting'],
    parts: ['Smoke detector head', 'Lithium detector battery', 'Replacement fuse'],
  },
  {
    match: /elevator|\blift\b|aufzug|fahrstuhl/,
    urgency: 'high',
    escalate: /stuck|trapped|eingeschlossen|steckt|stecken/,
    steps: () => ['Take the elevator out of service and put barriers at every landing', 'Check the car for passengers and free anyone trapped using the emergency procedure', 'Call the certified elevator service company for a diagnosis', 'Have the technician test door sensors and brakes before returning the elevator to service'],
    safetyNotes: ['Only certified elevator technicians may work in the shaft or machine room', 'Keep landing doors secured while the elevator is out of service'],
    parts: ['Door sensor light curtain', 'Landing door roller set'],
  },
  {
    match: /inspection|inspektion|prüfung|wartung|legionell|audit/,
    urgency: 'low',
    escalate: /legionell|overdue|überfällig/,
    steps: (j) => [`Schedule the inspection of the ${j.equipment} in ${j.location} with the responsible technician`, "Work through the manufacturer's checklist and record all measurements", 'Fix minor findings on the spot and raise work orders for the rest', 'File the signed inspection report in Odoo'],
    safetyNotes: ['Follow lockout/tagout before opening any equipment'],
    parts: ['Inspection checklist', 'Consumables as per checklist (filters, seals)'],
  },
  {
    match: /leak|\bleck|wasser|water|flood|überschwemm|tropf|drip|\bpipe|\brohr|undicht|schimmel|mould|mold/,
    urgency: 'medium',
    escalate: /flood|überschwemm|ceiling|decke|burst|geplatzt|rohrbruch/,
    steps: (j) => [`Shut off the water supply to ${j.location}`, 'Find the leak and contain the water with buckets and absorbent pads', `Replace the faulty seal, fitting or pipe section of the ${j.equipment}`, 'Dry the area and check walls and the ceiling below for moisture damage'],
    safetyNotes: ['Put up wet-floor warning signs against slipping', 'Isolate electrical outlets near the water before starting work'],
    parts: ['Pipe fitting set', 'Replacement seals and O-rings', 'Absorbent pads'],
  },
  {
    match: /\bac\b|a\/c|air[- ]?con|klima|heating|heizung|hvac|ventilation|lüftung|thermostat|radiator|heizkörper/,
    urgency: 'medium',
    steps: (j) => [`Check the thermostat setting and the breaker of the ${j.equipment} in ${j.location}`, 'Clean or replace the filter and clear the condensate drain', 'Measure the supply air temperature and refrigerant pressure against the specification', 'Replace the faulty component, or call the HVAC contractor if refrigerant work is needed'],
    safetyNotes: ['Isolate the power to the unit before opening the housing', 'Refrigerant work only by a certified technician'],
    parts: ['Air filter', 'Room thermostat', 'Condensate pump'],
  },
];

const GENERAL: Category = {
  match: /$^/,
  urgency: 'low',
  steps: (j) => [`Inspect the ${j.equipment} in ${j.location} and note the defect`, 'Repair or replace the faulty part', 'Check that the room is guest-ready and inform the front office'],
  safetyNotes: [],
  parts: [],
};

const LEVELS: readonly MaintenanceUrgency[] = ['low', 'medium', 'high', 'critical'];

/** Flawed drafts give one vague step and no parts, which the judge's step and parts criteria reject. */
export function draftMaintenance(context: LlmMissionContext, _rng: Rng, flawed: boolean): MaintenanceOutput {
  const p = context.payload;
  const text = `${context.title} ${context.description} ${textField(p, 'equipment') ?? ''}`.toLowerCase();
  const category = CATEGORIES.find((c) => c.match.test(text)) ?? GENERAL;
  const safetyIssue = p.safetyIssue === true;
  let level = LEVELS.indexOf(category.urgency) + (category.escalate?.test(text) ? 1 : 0);
  if (safetyIssue) level = Math.max(level, LEVELS.indexOf('high'));
  const job = jobOf(p);
  const safetyNotes = [...category.safetyNotes];
  if (safetyIssue && safetyNotes.length === 0) safetyNotes.push(`Cordon off ${job.location} until the repair is finished`);
  const steps = flawed ? ['Check the issue.'] : category.steps(job);
  const feedback = shortFeedback(context.feedback);
  if (feedback) steps.push(`Address the review feedback: ${feedback}`);
  const parts = flawed ? [] : category.parts.length > 0 ? [...category.parts] : [`Replacement part for the ${job.equipment}`];
  return { urgency: LEVELS[Math.min(level, LEVELS.length - 1)], steps, safetyNotes, parts };
}

function jobOf(payload: Record<string, unknown>): Job {
  const room = textField(payload, 'roomNumber');
  const location = textField(payload, 'location') ?? (room ? `room ${room}` : 'the reported area');
  const asset = recordField(payload, 'asset');
  return { location, equipment: textField(payload, 'equipment') ?? textField(asset, 'name') ?? 'equipment' };
}
