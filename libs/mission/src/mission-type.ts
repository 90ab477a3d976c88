export const MISSION_TYPES = ['guest_support', 'pricing', 'maintenance'] as const;
export type MissionType = (typeof MISSION_TYPES)[number];

export const PRIORITY_LEVELS = ['low', 'normal', 'high', 'critical'] as const;
export type PriorityLevel = (typeof PRIORITY_LEVELS)[number];

/** Skills a mission needs when the submitter names none. Agents in fixtures/agents.json carry these. */
export const DEFAULT_SKILLS: Readonly<Record<MissionType, readonly string[]>> = {
  guest_support: ['guest_communication'],
  pricing: ['revenue_management'],
  maintenance: ['facility_maintenance'],
};

/** Whether `value` is a mission type (for data read back from Redis, say, where nothing is checked yet). */
export function isMissionType(value: unknown): value is MissionType {
  return (MISSION_TYPES as readonly unknown[]).includes(value);
}
