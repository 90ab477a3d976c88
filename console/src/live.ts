import { useEffect, useRef, useState } from 'preact/hooks';
import { STREAM_CONNECTED_EVENT, STREAM_HEARTBEAT_MS, STREAM_PING_EVENT, STREAM_SILENT_INTERVALS, STREAM_UNAVAILABLE_EVENT } from '@app/mission/browser';
import { api, ApiFailure } from './api';
import { noteUnavailable } from './unavailable';

/** Wait before opening the stream again after it dropped; doubled after each attempt that fails, up to MAX_RECONNECT_MS. */
const RECONNECT_MS = 1_000;
/**
 * The longest wait between attempts. A stream the intake refuses (SSE_MAX_CLIENTS_PER_KEY reached by
 * other tabs, the key's rate limit spent) would otherwise be asked for every second, each time with
 * a token request that spends the key's RATE_LIMIT_PER_MINUTE for everyone who uses it.
 */
const MAX_RECONNECT_MS = 30_000;

/** `retryAt`: when the next attempt comes (Date.now() time), which the badge counts down to; `waitMs`: how long it was from the failure. */
export type LiveState = { phase: 'connecting' | 'live' } | { phase: 'reconnecting'; retryAt: number; waitMs: number };

/** The wait before the next attempt, after `failures` attempts in a row that did not start a stream. */
export function reconnectDelay(failures: number): number {
  return Math.min(RECONNECT_MS * 2 ** Math.max(0, failures - 1), MAX_RECONNECT_MS);
}

/**
 * Follows GET /api/stream with an EventSource and calls `onChange` when what the page shows may
 * have changed: on each event, and when a stream starts without resuming (the first one), since
 * the page loaded its data before the stream began and events in between are in no stream.
 * EventSource cannot send the API key, so each connection first gets a 60-second stream token;
 * when the connection drops (or the token has expired), it gets a new one and resumes after the
 * last event seen (`lastEventId`), so no event is missed. Attempts that fail in a row wait longer
 * each time (reconnectDelay), until a stream starts. A connection that shows nothing, not even the
 * server's ping, for STREAM_SILENT_INTERVALS heartbeats is taken for dead (a stalled proxy, a
 * sleeping laptop's socket: EventSource itself would wait for ever) and reconnected the same way.
 * `filter` is the stream's query (type, status, missionId). An `unavailable` event (a mission's
 * guest data the intake cannot open) is kept for every page that shows that mission (noteUnavailable).
 */
export function useLiveEvents(filter: Record<string, string | undefined>, onChange: () => void): LiveState {
  const [state, setState] = useState<LiveState>({ phase: 'connecting' });
  const handler = useRef(onChange);
  handler.current = onChange;
  const key = JSON.stringify(filter);

  useEffect(() => {
    let source: EventSource | undefined;
    let lastId: string | undefined;
    let stopped = false;
    let timer: number | undefined;
    let failures = 0;
    let heartbeatMs = STREAM_HEARTBEAT_MS;
    let silence: number | undefined;

    /** Something came: the connection is alive for another STREAM_SILENT_INTERVALS heartbeats. */
    const heard = () => {
      window.clearTimeout(silence);
      silence = window.setTimeout(() => {
        source?.close();
        retry();
      }, heartbeatMs * STREAM_SILENT_INTERVALS);
    };

    const connect = async () => {
      try {
        const { token } = await api<{ token: string }>('POST', '/api/stream/tokens');
        if (stopped) return;
        const params = new URLSearchParams({ token });
        for (const [name, value] of Object.entries(filter)) if (value) params.set(name, value);
        if (lastId) params.set('lastEventId', lastId);
        source = new EventSource(`/api/stream?${params.toString()}`);
        // From now: a connection that never opens is as dead as one that stops talking.
        heard();
        source.onopen = () => {
          heard();
          setState({ phase: 'live' });
        };
        source.onmessage = (message) => {
          heard();
          lastId = message.lastEventId || lastId;
          handler.current();
        };
        const resuming = lastId !== undefined;
        // Where this connection starts: a drop before its first event resumes from there, not from a later "now".
        source.addEventListener(STREAM_CONNECTED_EVENT, (message) => {
          heard();
          failures = 0;
          lastId = (message as MessageEvent).lastEventId || lastId;
          if (!resuming) handler.current();
        });
        source.addEventListener(STREAM_PING_EVENT, (message) => {
          // The server's SSE_HEARTBEAT_MS: another interval than the default must not read as silence.
          const announced = Number((message as MessageEvent).data);
          if (Number.isFinite(announced) && announced > 0) heartbeatMs = announced;
          heard();
        });
        // Before the mission's events, whose personal fields then read [unavailable]: said where staff look at that mission.
        source.addEventListener(STREAM_UNAVAILABLE_EVENT, (message) => {
          heard();
          noteUnavailable(String((message as MessageEvent).data));
        });
        source.onerror = () => {
          // The browser would retry with the same (soon expired) token: reconnect with a new one instead.
          source?.close();
          retry();
        };
      } catch (failure) {
        // A refused key sends the console back to sign-in (KEY_REJECTED): asking again would only count failures.
        if (failure instanceof ApiFailure && failure.status === 401) return;
        // A 429 says how long the token requests would be refused: not asked before then.
        retry(failure instanceof ApiFailure ? failure.retryAfterMs : undefined);
      }
    };
    const retry = (atLeastMs = 0) => {
      window.clearTimeout(silence);
      if (stopped) return;
      const retryInMs = Math.max(reconnectDelay(++failures), atLeastMs);
      setState({ phase: 'reconnecting', retryAt: Date.now() + retryInMs, waitMs: retryInMs });
      timer = window.setTimeout(() => void connect(), retryInMs);
    };
    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.clearTimeout(silence);
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
