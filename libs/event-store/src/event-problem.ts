import { MISSION_EVENT_TYPES, MissionEventType } from '@app/mission';

type FieldKind = 'string' | 'number' | 'boolean' | 'object' | 'array';

/**
 * The data fields each event type always has, as the services write them, and that the fold, the
 * summaries and the projections read: an event without one (a log changed by hand) cannot be
 * replayed. Optional fields (MissionEventData's `?`) are not named.
 */
const REQUIRED_DATA: Readonly<Record<MissionEventType, Readonly<Record<string, FieldKind>>>> = {
  MissionCreated: { type: 'string', title: 'string', description: 'string', priority: 'string', requiredSkills: 'array', payload: 'object' },
  MissionQueued: { priorityScore: 'number', reason: 'string' },
  MissionScheduled: { notBefore: 'string', reason: 'string', priorityScore: 'number' },
  MissionAssigned: { agentId: 'string', attempt: 'number' },
  MissionStarted: { agentId: 'string', attempt: 'number' },
  MissionCompleted: { agentId: 'string', attempt: 'number', result: 'object' },
  MissionFailed: { agentId: 'string', attempt: 'number', error: 'string' },
  MissionEvaluated: { attempt: 'number', score: 'number', passed: 'boolean', criteria: 'array', reason: 'string' },
  MissionDeadLettered: { reason: 'string', attempts: 'number', lastError: 'string' },
  MissionCancelled: { reason: 'string' },
  MissionRequeued: { reason: 'string', priorityScore: 'number' },
  MissionReviewRequested: { rule: 'string', attempt: 'number' },
  MissionApproved: { attempt: 'number' },
  MissionRejected: { attempt: 'number', feedback: 'string', round: 'number' },
  MissionReviewOverdue: { attempt: 'number', requestedAt: 'string', timeoutMs: 'number' },
  MissionOverdue: { deadline: 'string' },
  SubjectErased: { subjectId: 'string', reason: 'string' },
  LateReplyBilled: { attempt: 'number', agentId: 'string', usage: 'object', runId: 'string' },
};

type FieldRule = readonly [field: string, kind: FieldKind];

/** The rules as lists, made once: every replay checks every event of the log (verify, rebuild). */
const ENVELOPE: readonly FieldRule[] = [
  ['missionId', 'string'],
  ['at', 'string'],
  ['actor', 'string'],
  ['data', 'object'],
];
const DATA_RULES = new Map<string, readonly FieldRule[]>(MISSION_EVENT_TYPES.map((type) => [type, Object.entries(REQUIRED_DATA[type]) as FieldRule[]]));

function isKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

/** The first of `rules` that `record` breaks (a field missing or of another kind), said as `<place><field> (a <kind>)`. */
function missingField(record: Record<string, unknown>, rules: readonly FieldRule[], place: string): string | null {
  for (const [field, kind] of rules) {
    if (!isKind(record[field], kind)) return `${place}${field} (${kind === 'array' || kind === 'object' ? 'an' : 'a'} ${kind})`;
  }
  return null;
}

/**
 * Why a stored event (parsed, not yet upcast) cannot be replayed, in one line, or null when it can:
 * a type no build writes, or a field its type always has missing or of another kind (an event
 * changed by hand, e.g. a MissionFailed without `data.attempt`). What `upcast` refuses.
 */
export function eventProblem(stored: Record<string, unknown>): string | null {
  const { type, version } = stored;
  const rules = typeof type === 'string' ? DATA_RULES.get(type) : undefined;
  if (!rules) return `its type ${JSON.stringify(type) ?? '(none)'} is no mission event type`;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return `a ${String(type)} without a version (a whole number from 1)`;
  const missing = missingField(stored, ENVELOPE, '') ?? missingField(stored.data as Record<string, unknown>, rules, 'data.');
  return missing ? `a ${String(type)} without ${missing}` : null;
}
