import { isUnreadable, LogEntryRead, UnreadableLogEntry } from '@app/event-store';
import { MissionEvent } from '@app/mission';
import { forTerminal } from './terminal-text';

/** The type column of an event that cannot be read (a log changed by hand). */
export const UNREADABLE_ROW_TYPE = '(unreadable)';

/** One row of a mission's timeline. */
export interface TimelineRow {
  /** Null for an event that cannot be read and holds no version. */
  version: number | null;
  at: string;
  type: MissionEvent['type'] | typeof UNREADABLE_ROW_TYPE;
  actor: string;
  summary: string;
  correlationId: string;
  causationId: string;
}

/** Free text in a summary stays on one line and short. */
const MAX_TEXT = 120;

/** Stored free text as one short line, its control and bidi characters escaped (see forTerminal). */
function oneLine(text: string, max = MAX_TEXT): string {
  const flat = forTerminal(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const score = (value: number): string => value.toFixed(2);

/** A one-line, human summary of what the event says, e.g. "assigned to agent-lena (attempt 1)". */
export function summarize(event: MissionEvent): string {
  switch (event.type) {
    case 'MissionCreated': {
      const d = event.data;
      return `created ${d.type} "${oneLine(d.title, 80)}" (${d.priority} priority${d.deadline ? `, due ${d.deadline}` : ''})`;
    }
    case 'MissionQueued': {
      const d = event.data;
      if (d.reason === 'due') return `queued at its scheduled time (score ${score(d.priorityScore)})`;
      if (d.reason === 'retry') return `queued for retry (score ${score(d.priorityScore)})${d.feedback ? `: ${oneLine(d.feedback)}` : ''}`;
      if (d.reason === 'rejected') return `queued again after a rejection (score ${score(d.priorityScore)})`;
      return `queued (score ${score(d.priorityScore)})`;
    }
    case 'MissionAssigned':
      return `assigned to ${event.data.agentId} (attempt ${event.data.attempt})`;
    case 'MissionStarted':
      return `started by ${event.data.agentId} (attempt ${event.data.attempt})`;
    case 'MissionCompleted': {
      const { agentId, attempt, result } = event.data;
      const cost = result.costUsd !== undefined ? `, $${result.costUsd.toFixed(4)}` : '';
      return `completed by ${agentId} (attempt ${attempt}) with ${result.model} in ${result.latencyMs} ms${cost}`;
    }
    case 'MissionFailed':
      return `failed on ${event.data.agentId} (attempt ${event.data.attempt}): ${oneLine(event.data.error)}`;
    case 'MissionEvaluated': {
      const d = event.data;
      const verdict = `evaluated ${score(d.score)} ${d.passed ? 'pass' : 'fail'} by ${d.judge} (${d.rubricVersion})`;
      if (d.heldForReview) return `${verdict}, held for review`;
      return d.passed ? verdict : `${verdict}: ${oneLine(d.reason)}`;
    }
    case 'MissionDeadLettered':
      return `dead-lettered after ${event.data.attempts} attempt${event.data.attempts === 1 ? '' : 's'}: ${oneLine(event.data.lastError)}`;
    case 'MissionCancelled':
      return `cancelled: ${oneLine(event.data.reason)}`;
    case 'MissionRequeued':
      return `requeued from dead letters (score ${score(event.data.priorityScore)}): ${oneLine(event.data.reason)}`;
    case 'MissionReviewRequested':
      return `review requested by rule "${oneLine(event.data.rule, 80)}" (attempt ${event.data.attempt})`;
    case 'MissionApproved': {
      const { attempt, note, output } = event.data;
      return `approved${output ? ' with edits' : ''} (attempt ${attempt})${note ? `: ${oneLine(note)}` : ''}`;
    }
    case 'MissionRejected':
      return `rejected in review round ${event.data.round} (attempt ${event.data.attempt}): ${oneLine(event.data.feedback)}`;
    case 'MissionReviewOverdue':
      return `review overdue: waiting since ${event.data.requestedAt}, over ${event.data.timeoutMs} ms`;
    case 'MissionOverdue':
      return `overdue: deadline ${event.data.deadline} passed unfinished`;
    case 'SubjectErased':
      return `subject ${event.data.subjectId} erased: ${oneLine(event.data.reason)}`;
    case 'LateReplyBilled': {
      const { agentId, attempt, usage, costUsd, judge } = event.data;
      const cost = costUsd !== undefined ? `, $${costUsd.toFixed(4)}` : '';
      const billed = `${usage.promptTokens}+${usage.completionTokens} tokens${cost}`;
      if (judge) return `judge's reply billed on ${agentId}'s attempt ${attempt} (its verdict could not be recorded): ${billed}`;
      return `late reply billed on ${agentId} (attempt ${attempt} was over): ${billed}`;
    }
    case 'MissionScheduled': {
      const d = event.data;
      const why = d.reason === 'retry' ? `retry after backoff${d.feedback ? `: ${oneLine(d.feedback)}` : ''}` : 'later start';
      return `scheduled for ${d.notBefore} (${why})`;
    }
  }
}

/**
 * The mission's history as rows, in version order. An entry that cannot be read is a row of its own
 * (UNREADABLE_ROW_TYPE, the reason as its summary), where its version puts it, or after the event
 * listed before it when it holds none.
 */
export function timeline(entries: readonly LogEntryRead[]): TimelineRow[] {
  let previous = 0;
  const placed = entries.map((entry) => {
    const row = isUnreadable(entry) ? unreadableRow(entry) : eventRow(entry);
    previous = row.version ?? previous;
    return { row, place: previous };
  });
  return placed.sort((a, b) => a.place - b.place).map(({ row }) => row);
}

function eventRow(event: MissionEvent): TimelineRow {
  return {
    version: event.version,
    at: event.at,
    type: event.type,
    actor: forTerminal(event.actor),
    summary: summarize(event),
    correlationId: event.correlationId,
    causationId: event.causationId,
  };
}

function unreadableRow(entry: UnreadableLogEntry): TimelineRow {
  return {
    version: entry.version ?? null,
    at: entry.at !== undefined ? oneLine(entry.at, 40) : '',
    type: UNREADABLE_ROW_TYPE,
    actor: '',
    summary: `log entry ${entry.logId}: ${oneLine(entry.reason)}`,
    correlationId: '',
    causationId: '',
  };
}

/** Versions `from` to `to` (inclusive) of a mission, none of which its events hold. */
export interface VersionGap {
  from: number;
  to: number;
}

/**
 * The versions below the last of `events` (one mission's, any order) that none of them has: an event
 * deleted from the log, whose neighbours history would otherwise show side by side. `listed`, the
 * length of the mission's event list, also names the versions after the last event that the list
 * has and the log lost (a deleted last event leaves no neighbour after it). Ranges, not lists: a
 * forged version can be as large as a number goes.
 */
export function missingVersions(events: readonly { version?: number }[], listed = 0): VersionGap[] {
  const gaps: VersionGap[] = [];
  let expected = 1;
  for (const version of events.flatMap((event) => (event.version === undefined ? [] : [event.version])).sort((a, b) => a - b)) {
    if (version > expected) gaps.push({ from: expected, to: version - 1 });
    expected = Math.max(expected, version + 1);
  }
  if (listed >= expected) gaps.push({ from: expected, to: listed });
  return gaps;
}

/** A gap as history prints it, e.g. "v14 missing from the log" or "v14–v20 missing from the log (7 versions)". */
export function describeGap({ from, to }: VersionGap): string {
  return from === to ? `v${from} missing from the log` : `v${from}–v${to} missing from the log (${to - from + 1} versions)`;
}
