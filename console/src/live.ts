import { useEffect, useRef, useState } from 'preact/hooks';
import { STREAM_CONNECTED_EVENT } from '../../libs/mission/src/live-stream-protocol';
import { api, ApiFailure } from './api';

/** Wait before opening the stream again after it dropped. */
const RECONNECT_MS = 1_000;

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Follows GET /api/stream with an EventSource and calls `onChange` when what the page shows may
 * have changed: on each event, and when a stream starts without resuming (the first one), since
 * the page loaded its data before the stream began and events in between are in no stream.
 * EventSource cannot send the API key, so each connection first gets a 60-second stream token;
 * when the connection drops (or the token has expired), it gets a new one and resumes after the
 * last event seen (`lastEventId`), so no event is missed. `filter` is the stream's query (type,
 * status, missionId).
 */
export function useLiveEvents(filter: Record<string, string | undefined>, onChange: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onChange);
  handler.current = onChange;
  const key = JSON.stringify(filter);

  useEffect(() => {
    let source: EventSource | undefined;
    let lastId: string | undefined;
    let stopped = false;
    let timer: number | undefined;

    const connect = async () => {
      try {
        const { token } = await api<{ token: string }>('POST', '/api/stream/tokens');
        if (stopped) return;
        const params = new URLSearchParams({ token });
        for (const [name, value] of Object.entries(filter)) if (value) params.set(name, value);
        if (lastId) params.set('lastEventId', lastId);
        source = new EventSource(`/api/stream?${params.toString()}`);
        source.onopen = () => setState('live');
        source.onmessage = (message) => {
          lastId = message.lastEventId || lastId;
          handler.current();
        };
        const resuming = lastId !== undefined;
        // Where this connection starts: a drop before its first event resumes from there, not from a later "now".
        source.addEventListener(STREAM_CONNECTED_EVENT, (message) => {
          lastId = (message as MessageEvent).lastEventId || lastId;
          if (!resuming) handler.current();
        });
        source.onerror = () => {
          // The browser would retry with the same (soon expired) token: reconnect with a new one instead.
          source?.close();
          retry();
        };
      } catch (failure) {
        // A refused key sends the console back to sign-in (KEY_REJECTED): asking again would only count failures.
        if (failure instanceof ApiFailure && failure.status === 401) return;
        retry();
      }
    };
    const retry = () => {
      if (stopped) return;
      setState('reconnecting');
      timer = window.setTimeout(() => void connect(), RECONNECT_MS);
    };
    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      source?.close();
    };
    // The filter's JSON stands for the filter: a new object with the same fields keeps the stream.
  }, [key]);

  return state;
}

/** Calls `refresh` at most every `ms`, trailing: many events in a burst cost one reload. */
export function useThrottled(refresh: () => void, ms: number): () => void {
  const pending = useRef<number | undefined>(undefined);
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => () => window.clearTimeout(pending.current), []);
  return () => {
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      latest.current();
    }, ms);
  };
}
