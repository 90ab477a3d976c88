import { MaintenanceUrgency } from '@app/mission';

export interface Job {
  location: string;
  equipment: string;
}

export interface MaintenanceCategory {
  match: RegExp;
  urgency: MaintenanceUrgency;
  /** Makes the job one level more urgent, e.g. a flood rather than a drip. */
  escalate?: RegExp;
  steps: (job: Job) => string[];
  safetyNotes: string[];
  parts: (job: Job) => string[];
}

/**
 * First match wins, most dangerous first. Detectors come before fire so a chirping smoke detector
 * is not planned as a fire, inspections and drains before water so "Legionellenprüfung Warmwasser"
 * or a clogged shower are not planned as leaks. `\bgas` alone would also match the German "Gast".
 * Every category carries safety notes, so anything involving water, electricity, lifts or fire gets them.
 */
export const MAINTENANCE_CATEGORIES: readonly MaintenanceCategory[] = [
  {
    match: /\bgas(leck|geruch|leitung|herd|therme)?\b|gas (leak|smell)|carbon monoxide|kohlenmonoxid|\bco[- ](alarm|melder)/,
    urgency: 'critical',
    steps: (j) => [
      `Evacuate guests and staff from ${j.location} and the neighbouring rooms`,
      'Shut off the main gas valve for the affected section',
      'Ventilate the area without operating any electrical switches',
      'Call the gas utility emergency line and the certified gas fitter',
      'Have the line pressure-tested before the area is released again',
    ],
    safetyNotes: ['No open flames, smoking or electrical switches near the leak', 'Keep everyone out until the gas fitter releases the area'],
    parts: () => ['Gas leak detection spray', 'Replacement valve seals', 'Portable gas detector'],
  },
  {
    match: /spark|funken|socket|steckdose|electric|elektr|\bstrom|power outage|short circuit|kurzschluss|exposed wire|\bkabel|\bfuse|sicherung/,
    urgency: 'high',
    escalate: /burning|brandgeruch|schmor|smoke|\brauch|stromschlag|electric shock|exposed wire/,
    steps: (j) => [
      `Switch off and lock out the circuit feeding ${j.location}`,
      `Inspect the ${j.equipment} and its wiring for scorch marks and loose terminals`,
      'Repair or replace the damaged component and re-tighten all terminals',
      'Test the circuit and the RCD before switching the power back on',
    ],
    safetyNotes: ['Work only on a de-energised, locked-out circuit', 'Only a qualified electrician may open the installation'],
    parts: (j) => [`Spare parts for the ${j.equipment}`, 'Connector terminals', 'RCD tester'],
  },
  {
    match: /smoke detector|smoke alarm|rauchmelder|brandmelder|fire alarm/,
    urgency: 'high',
    steps: (j) => [
      `Identify the affected ${j.equipment} in ${j.location} on the fire alarm panel`,
      'Replace the battery or the detector head',
      'Test the detector with test aerosol and reset the panel',
      'Record the test in the fire safety log book',
    ],
    safetyNotes: [
      'Never disable the fire alarm system without the fire safety officer',
      'Tell the alarm receiving centre before testing to avoid a false fire brigade call-out',
    ],
    parts: () => ['Lithium detector battery', 'Smoke detector head', 'Detector test aerosol'],
  },
  {
    match: /smoke|\brauch|burning|brandgeruch|verbrannt|schmor|\bfire\b|\bfeuer|flames|flammen/,
    urgency: 'high',
    escalate: /burning|brandgeruch|schmor|smoke (coming|from)|rauchentwicklung|flames|flammen/,
    steps: (j) => [
      `Locate the source of the smoke or burning smell in ${j.location}`,
      'Isolate the power to the affected circuit or appliance',
      `Check the ${j.equipment} for heat damage and take it out of use`,
      'Brief the duty manager and the fire safety officer on the finding',
    ],
    safetyNotes: ['Evacuate the area at once if there is open fire and call the fire brigade', 'Keep a CO2 extinguisher at hand while inspecting'],
    parts: (j) => [`Replacement for the ${j.equipment}`, 'Replacement fuse'],
  },
  {
    match: /elevator|\blift\b|aufzug|fahrstuhl/,
    urgency: 'high',
    escalate: /stuck|trapped|eingeschlossen|steckt|stecken/,
    steps: () => [
      'Take the elevator out of service and put barriers at every landing',
      'Check the car for passengers and free anyone trapped using the emergency procedure',
      'Call the certified elevator service company for a diagnosis',
      'Have the technician test door sensors and brakes before returning the elevator to service',
    ],
    safetyNotes: [
      'Only certified elevator technicians may work in the shaft or machine room',
      'Keep landing doors secured while the elevator is out of service',
    ],
    parts: () => ['Door sensor light curtain', 'Landing door roller set'],
  },
  {
    match: /inspection|inspektion|prüfung|wartung|legionell|audit/,
    urgency: 'low',
    escalate: /legionell|overdue|überfällig/,
    steps: (j) => [
      `Schedule the inspection of the ${j.equipment} in ${j.location} with the responsible technician`,
      "Work through the manufacturer's checklist and record all measurements",
      'Fix minor findings on the spot and raise work orders for the rest',
      'File the signed inspection report in Odoo',
    ],
    safetyNotes: ['Follow lockout/tagout before opening any equipment'],
    parts: () => ['Inspection checklist', 'Consumables as per checklist (filters, seals)'],
  },
  {
    match: /abfluss|verstopft|clogged|blocked drain|drain (is )?blocked|slow drain/,
    urgency: 'medium',
    steps: (j) => [
      `Remove the cover and hair trap of the ${j.equipment} in ${j.location}`,
      'Clear the blockage with a drain spiral',
      'Flush with hot water and check that the water runs off freely',
      'Refit the cover and leave the bathroom clean and dry',
    ],
    safetyNotes: ['Wear gloves and eye protection when handling drain cleaner', 'Put up wet-floor warning signs against slipping'],
    parts: () => ['Drain spiral', 'Hair trap insert', 'Drain seal'],
  },
  {
    match: /leak|\bleck|wasser|water|flood|überschwemm|tropf|drip|\bpipe|\brohr|undicht|schimmel|mould|mold/,
    urgency: 'medium',
    escalate: /flood|überschwemm|ceiling|decke|burst|geplatzt|rohrbruch/,
    steps: (j) => [
      `Shut off the water supply to ${j.location}`,
      'Find the leak and contain the water with buckets and absorbent pads',
      `Replace the faulty seal, fitting or pipe section of the ${j.equipment}`,
      'Dry the area and check walls and the ceiling below for moisture damage',
    ],
    safetyNotes: ['Put up wet-floor warning signs against slipping', 'Isolate electrical outlets near the water before starting work'],
    parts: () => ['Pipe fitting set', 'Replacement seals and O-rings', 'Absorbent pads'],
  },
  {
    match: /heating|heizung|radiator|heizkörper/,
    urgency: 'medium',
    steps: (j) => [
      `Check the thermostat head and valve of the ${j.equipment} in ${j.location}`,
      'Bleed the radiator and check the system pressure at the boiler',
      'Free or replace a stuck valve pin or thermostat head',
      'Confirm that the room warms up and tell the front office',
    ],
    safetyNotes: ['Pipes and radiators can be hot: let them cool before dismantling', 'Catch bleed water to keep the floor dry'],
    parts: () => ['Thermostat head', 'Valve insert', 'Radiator bleed key'],
  },
  {
    match: /\bac\b|a\/c|air[- ]?con|klima|hvac|ventilation|lüftung/,
    urgency: 'medium',
    steps: (j) => [
      `Check the thermostat setting and the breaker of the ${j.equipment} in ${j.location}`,
      'Clean or replace the filter and clear the condensate drain',
      'Measure the supply air temperature and refrigerant pressure against the specification',
      'Replace the faulty component, or call the HVAC contractor if refrigerant work is needed',
    ],
    safetyNotes: ['Isolate the power to the unit before opening the housing', 'Refrigerant work only by a certified technician'],
    parts: () => ['Air filter', 'Room thermostat', 'Condensate pump'],
  },
];

/** Cosmetic and comfort jobs: no safety notes unless the reporter flagged a safety issue. */
export const GENERAL_CATEGORY: MaintenanceCategory = {
  match: /$^/,
  urgency: 'low',
  steps: (j) => [
    `Inspect the ${j.equipment} in ${j.location} and note the defect`,
    'Repair or replace the faulty part',
    'Check that the room is guest-ready and inform the front office',
  ],
  safetyNotes: [],
  parts: (j) => [`Replacement part for the ${j.equipment}`],
};
