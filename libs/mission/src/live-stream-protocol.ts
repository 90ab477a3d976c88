/**
 * The SSE event type of the first message of GET /api/stream: its `id` (and `data`) is the log
 * position the stream starts from, so a client that drops before any mission event comes resumes
 * from there. Mission events are unnamed messages (EventSource's `onmessage`).
 */
export const STREAM_CONNECTED_EVENT = 'connected';
