import { Mission } from './mission-state';

/**
 * The SSE event type of the first message of GET /api/stream: its `id` (and `data`) is the log
 * position the stream starts from, so a client that drops before any mission event comes resumes
 * from there. Mission events are unnamed messages (EventSource's `onmessage`).
 */
export const STREAM_CONNECTED_EVENT = 'connected';

/**
 * The SSE event type of the heartbeat: right after `connected`, then every SSE_HEARTBEAT_MS. Its
 * `data` is that interval in milliseconds. A named event, not a comment line, since EventSource
 * hides comments: a client can only tell a quiet log from a dead connection by what it is shown.
 */
export const STREAM_PING_EVENT = 'ping';

/**
 * The SSE event type that tells a client reading guest data that the events following it hold
 * personal fields this intake cannot open (UNAVAILABLE_MARKER in their place): a subject's key is
 * wrapped under a master key it is not configured with. Its `data` is the 503 error body the API
 * answers for the same cause (JSON: statusCode, error, message naming the master key ids, details).
 * Sent once per stream and master key, before the first such event; it has no `id`, so resuming
 * is unchanged.
 */
export const STREAM_UNAVAILABLE_EVENT = 'unavailable';

/**
 * What a personal field reads where this process cannot open it: on the live stream, its subject's
 * key wrapped under a master key it is not configured with (the 503 of the API; the stream says
 * which key ids in an `unavailable` event, STREAM_UNAVAILABLE_EVENT), or the field altered where it
 * is stored (the stream names the mission); in the API's answers (a mission, a page, the review
 * inbox), a mission whose stored guest data fails its integrity check (ShownMission).
 * Not `[erased]`: the data is there, and is shown once the master key is configured or it is mended.
 */
export const UNAVAILABLE_MARKER = '[unavailable]';

/**
 * A mission as the API answers it. `unavailable` is there only when its stored guest data fails its
 * integrity check (altered where it is stored), wherever the API answers the mission (alone, in a
 * list, after a cancel): its personal fields then read UNAVAILABLE_MARKER, and this is the message
 * for the operator (`replay verify` finds where). Not the marker itself: a guest may write it.
 */
export interface ShownMission extends Mission {
  unavailable?: string;
}

/**
 * The message of a STREAM_UNAVAILABLE_EVENT about one mission's guest data (altered where it is
 * stored, the 500's message): `message` with the mission named at its end, where
 * missionOfUnavailableNotice finds it. A master key mismatch names no mission: it is every one's.
 */
export function unavailableNoticeMessage(message: string, missionId: string): string {
  return `${message} (mission ${missionId})`;
}

/** The mission a STREAM_UNAVAILABLE_EVENT's message names (unavailableNoticeMessage), or undefined when it names none. */
export function missionOfUnavailableNotice(message: string): string | undefined {
  return /\(mission ([^\s()]+)\)$/.exec(message)?.[1];
}

/** The heartbeat interval a client assumes until the first ping says the server's (SSE_HEARTBEAT_MS's default). */
export const STREAM_HEARTBEAT_MS = 15_000;

/** Heartbeat intervals without any message after which a client takes the connection for dead and reconnects. */
export const STREAM_SILENT_INTERVALS = 3;
