import { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiFailure } from './api';
import { LiveState } from './live';

export function LiveBadge({ state }: { state: LiveState }) {
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span class={`badge live-${state}`} role="status">
      {text}
    </span>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiFailure ? error.message : String((error as Error).message ?? error);
  return (
    <p role="alert" class="error">
      {message}
    </p>
  );
}

export function PageTitle({ children, live }: { children: ComponentChildren; live?: LiveState }) {
  return (
    <div class="page-title">
      <h1>{children}</h1>
      {live && <LiveBadge state={live} />}
    </div>
  );
}

/** Loads with `load` now and whenever `reload` is called; keeps the last good value while reloading. */
export function useLoaded<T>(load: () => Promise<T>, deps: unknown[]): { value: T | undefined; error: unknown; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (loaded) => {
        if (!current) return;
        setValue(loaded);
        setError(null);
      },
      (failure: unknown) => current && setError(failure),
    );
    return () => {
      current = false;
    };
    // `load` is a new function on every render; `deps` says when it loads something else.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { value, error, reload };
}

/** A note for the outcome of an action, read out by screen readers. */
export function Outcome({ text }: { text: string | null }) {
  return (
    <p class="outcome" role="status" aria-live="polite">
      {text ?? ''}
    </p>
  );
}
