import { createParser, EventSourceMessage } from 'eventsource-parser';
import { parseRetryAfterMs } from '@app/llm';
import { STREAM_CONNECTED_EVENT, STREAM_UNAVAILABLE_EVENT } from '@app/mission';

export interface StreamMessage {
  /** The log position after this event; send it back as Last-Event-ID to resume. */
  id: string | undefined;
  data: string;
}

export class StreamRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    /** A 429's Retry-After: how long the intake asks to be left alone. */
    readonly retryAfterMs?: number,
  ) {
    super(`the stream was refused: HTTP ${status} ${body}`);
    this.name = 'StreamRefusedError';
  }
}

/** A 200 that is no event stream: a page of a proxy, or of another server at the URL. */
export class NotAnEventStreamError extends Error {
  constructor(readonly contentType: string) {
    super(`the stream was answered with ${contentType || 'no content type'}, not an event stream`);
    this.name = 'NotAnEventStreamError';
  }
}

/**
 * Reads a Server-Sent Events response (`GET /api/stream`) and hands each mission event's message to
 * `onMessage`, the position the stream starts from to `onConnected`, and the error body of each
 * STREAM_UNAVAILABLE_EVENT (guest data the intake cannot open) to `onUnavailable`, until the server
 * ends it or `signal` aborts it (then it resolves quietly). A refusal (any status but 200) is a
 * StreamRefusedError carrying the error body; a 200 of another content type a NotAnEventStreamError.
 */
export async function followStream(
  url: string,
  headers: Record<string, string>,
  onMessage: (message: StreamMessage) => void,
  signal: AbortSignal,
  onConnected: (position: string) => void = () => undefined,
  onUnavailable: (errorBody: string) => void = () => undefined,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal });
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
  if (response.status !== 200 || !response.body) {
    throw new StreamRefusedError(response.status, await response.text(), response.status === 429 ? parseRetryAfterMs(response.headers) : undefined);
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/event-stream')) {
    await response.body.cancel().catch(() => undefined);
    throw new NotAnEventStreamError(contentType);
  }
  const parser = createParser({
    onEvent: (event: EventSourceMessage) => {
      if (event.event === STREAM_CONNECTED_EVENT) onConnected(event.data);
      else if (event.event === STREAM_UNAVAILABLE_EVENT) onUnavailable(event.data);
      // Mission events are the unnamed ones; pings (STREAM_PING_EVENT) only show the connection alive.
      else if (event.event === undefined) onMessage({ id: event.id, data: event.data });
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
}
