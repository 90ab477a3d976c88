import { ComponentChildren, Ref, RefObject } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiFailure, UNREACHABLE } from './api';
import { LiveState } from './live';

/**
 * The live stream's state. While it reconnects, the seconds to the next attempt count down (they
 * stood still at the first wait), and once it has come, the attempt is under way. The count is
 * hidden from screen readers, which would otherwise read the status out again every second: they
 * hear the whole wait instead, once, as the reconnecting starts.
 */
export function LiveBadge({ state }: { state: LiveState }) {
  useEverySecond(state.phase === 'reconnecting');
  if (state.phase !== 'reconnecting') {
    return (
      <span class={`badge live-${state.phase}`} role="status">
        {state.phase === 'live' ? 'Live' : 'Connecting…'}
      </span>
    );
  }
  const left = Math.ceil((state.retryAt - Date.now()) / 1000);
  return (
    <span class="badge live-reconnecting" role="status">
      Reconnecting
      <span aria-hidden="true">{left > 0 ? ` in ${left} s…` : '…'}</span>
      <span class="visually-hidden"> in {Math.ceil(state.waitMs / 1000)} s</span>
    </span>
  );
}

/** Renders the component again every second while `running`. */
export function useEverySecond(running: boolean): void {
  const [, setTicks] = useState(0);
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => setTicks((n) => n + 1), 1_000);
    return () => window.clearInterval(timer);
  }, [running]);
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

/**
 * `headingRef`: for a page that moves the focus to its heading itself. The heading is focusable
 * from code only (tabIndex -1): the console moves the focus there when another page opens.
 */
export function PageTitle({ children, live, headingRef }: { children: ComponentChildren; live?: LiveState; headingRef?: Ref<HTMLHeadingElement> }) {
  return (
    <div class="page-title">
      <h1 ref={headingRef} tabIndex={-1}>
        {children}
      </h1>
      {live && <LiveBadge state={live} />}
    </div>
  );
}

/**
 * Names the browser tab after what it shows: the tab strip, history and screen readers tell pages
 * apart by it. `null`: left to the page shown, which names it itself (a mission, by its title).
 */
export function useDocumentTitle(name: string | null): void {
  useEffect(() => {
    if (name !== null) document.title = `${name} — BRAIN console`;
  }, [name]);
}

/** How long after a load that failed for a passing reason (passing) it is first tried again; doubled each time after, up to LOAD_RETRY_MAX_MS. */
const LOAD_RETRY_MS = 5_000;
const LOAD_RETRY_MAX_MS = 60_000;

/**
 * Whether a failed load may succeed if asked again: no answer, a gateway's or Redis's passing
 * failure (502, 503, 504), or a 429's wait. Not a 500: the intake's own failure (stored guest
 * data altered, a bug) is not mended by asking again, and each would log a stack.
 */
function passing(failure: unknown): boolean {
  return failure instanceof ApiFailure && [UNREACHABLE, 429, 502, 503, 504].includes(failure.status);
}

/**
 * How long 429s in a row go unsaid while they are tried again after their Retry-After: a list
 * read refused because the key's other reads are in flight (LIST_SCANS_PER_KEY, `Retry-After: 1`,
 * another tab on the same key) passes by itself, and an alert for it only alarmed. One that asks
 * for a longer wait (the key's RATE_LIMIT_PER_MINUTE spent) is said at once.
 */
const QUIET_REFUSALS_MS = 10_000;

const sameDeps = (before: unknown[], now: unknown[]) => before.length === now.length && now.every((dep, i) => Object.is(dep, before[i]));

/**
 * Loads with `load` now, whenever `deps` change and whenever `reload` is called. A reload keeps the
 * last good value while it runs (and when it fails); a change of `deps` drops it at once, so the
 * page never shows one thing's data under another's name (another mission, another filter).
 * One request at a time: a reload asked for while one is in flight (live events on a busy system)
 * makes one more once it has answered, however many were asked, and a change of `deps` aborts it
 * (`load`'s signal). Each started alongside the last took another of the key's LIST_SCANS_PER_KEY
 * slots, and two tabs on one key were refused with 429s over and over.
 * After a 429, loads wait until its Retry-After has passed, and all asked for meanwhile (polls, live
 * events) make one then: each would be refused again, and keep the key's budget spent for all who use it.
 * A load that failed for a passing reason is tried again by itself: after a 429, once its
 * Retry-After has passed, unsaid while the 429s in a row last under QUIET_REFUSALS_MS; after any
 * other, after LOAD_RETRY_MS, then twice as long each time up to LOAD_RETRY_MAX_MS (or once a
 * Retry-After's wait is over), until one succeeds or the page loads something else.
 */
export function useLoaded<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { value: T | undefined; error: unknown; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const loadedFor = useRef<unknown[] | null>(null);
  /** Date.now() before which the API asked not to be asked again. */
  const heldUntil = useRef(0);
  /** Loads in a row that failed for a passing reason: each waits longer before the next. */
  const retries = useRef(0);
  /** Date.now() of the first of the 429s in a row; null after any other answer. */
  const refusedSince = useRef<number | null>(null);
  /** The request in flight, and whether a reload was asked for while it ran. */
  const inFlight = useRef<{ controller: AbortController; again: boolean } | null>(null);
  /** The load waiting for a Retry-After, or the retry of one that failed. */
  const timer = useRef<number | undefined>(undefined);
  useEffect(
    () => () => {
      inFlight.current?.controller.abort();
      window.clearTimeout(timer.current);
    },
    [],
  );
  useEffect(() => {
    window.clearTimeout(timer.current);
    const held = heldUntil.current - Date.now();
    if (loadedFor.current && !sameDeps(loadedFor.current, deps)) {
      inFlight.current?.controller.abort();
      inFlight.current = null;
      setValue(undefined);
      // The 429 still holds for this load too: it stays said.
      if (held <= 0) setError(null);
    }
    loadedFor.current = deps;
    if (inFlight.current) {
      inFlight.current.again = true;
      return;
    }
    const start = () => {
      const flight = { controller: new AbortController(), again: false };
      inFlight.current = flight;
      const answered = () => {
        inFlight.current = null;
        if (flight.again) setTick((n) => n + 1);
        return flight.again;
      };
      load(flight.controller.signal).then(
        (loaded) => {
          if (flight.controller.signal.aborted) return;
          retries.current = 0;
          refusedSince.current = null;
          setValue(loaded);
          setError(null);
          answered();
        },
        (failure: unknown) => {
          // Also from a load a newer one replaced: the wait is the API's, whichever load it answered.
          if (failure instanceof ApiFailure && failure.retryAfterMs !== undefined) heldUntil.current = Date.now() + failure.retryAfterMs;
          if (flight.controller.signal.aborted) return;
          const now = Date.now();
          const refused = failure instanceof ApiFailure && failure.status === 429;
          refusedSince.current = refused ? (refusedSince.current ?? now) : null;
          // A page with no live event to come (a quiet night) showed the error for good, the system back or not.
          let wait: number | undefined;
          if (refused && failure.retryAfterMs !== undefined) wait = heldUntil.current - now;
          else if (passing(failure)) {
            wait = Math.max(Math.min(LOAD_RETRY_MS * 2 ** retries.current, LOAD_RETRY_MAX_MS), heldUntil.current - now);
            retries.current += 1;
          }
          const quiet = refusedSince.current !== null && wait !== undefined && now + wait - refusedSince.current < QUIET_REFUSALS_MS;
          if (!quiet) setError(failure);
          // A reload asked for meanwhile goes first (after the Retry-After, as any load).
          if (!answered() && wait !== undefined) timer.current = window.setTimeout(() => setTick((n) => n + 1), wait);
        },
      );
    };
    if (held > 0) timer.current = window.setTimeout(start, held);
    else start();
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

/**
 * A page's actions, one at a time: `busy` while one runs (its buttons are disabled with it, and a
 * second click meanwhile does nothing, so a double click sends one request), then what it said or
 * why it failed, and the page reloaded. Then the focus goes to the page's heading (`heading`, for
 * PageTitle's headingRef), above the outcome: the pressed button was disabled meanwhile, and may
 * be gone or another now (a row requeued, Pause become Resume), which left the focus on the body.
 */
export function useAction(reload: () => void): {
  busy: boolean;
  outcome: string | null;
  failure: unknown;
  run: (what: () => Promise<string>) => Promise<void>;
  heading: RefObject<HTMLHeadingElement | null>;
} {
  const heading = useRef<HTMLHeadingElement>(null);
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const run = async (what: () => Promise<string>) => {
    if (running.current) return;
    running.current = true;
    const pressed = document.activeElement;
    setBusy(true);
    try {
      setOutcome(await what());
      setFailure(null);
    } catch (caught) {
      setFailure(caught);
    } finally {
      running.current = false;
      setBusy(false);
      reload();
      // Only the focus the action took away: one the user moved on to (typing a filter) stays.
      const now = document.activeElement;
      if (!now || now === document.body || now === pressed || !now.isConnected) heading.current?.focus();
    }
  };
  return { busy, outcome, failure, run, heading };
}

/**
 * A search field whose value counts once committed (Enter, or leaving the field), not on every key.
 * What is typed until then is the field's own: were the field given the committed value on every
 * render, the page's next render (a live reload) would put it back over the typing. A new
 * committed value (Back, a link) replaces what was typed.
 */
export function CommittedInput({ value, onCommit, placeholder }: { value: string; onCommit: (value: string) => void; placeholder?: string }) {
  const [typed, setTyped] = useState(value);
  useEffect(() => setTyped(value), [value]);
  return (
    <input
      type="search"
      placeholder={placeholder}
      value={typed}
      onInput={(event) => setTyped(event.currentTarget.value)}
      onChange={(event) => onCommit(event.currentTarget.value)}
    />
  );
}

/**
 * Said by screen readers when it changes (a page's count after paging or filtering), not shown:
 * a table's caption says it to the eye, but a caption is no live region, and the table is gone
 * while the next page loads. Rendered from the first load on, so a change is news to the reader.
 */
export function Announced({ text }: { text: string | undefined }) {
  return (
    <p class="visually-hidden" role="status" aria-live="polite">
      {text ?? ''}
    </p>
  );
}

/**
 * A button that cannot act now (`held`: a page loading, nothing older, an edit pending) but stays
 * focusable (aria-disabled, not disabled): a disabled button loses the focus to the body, so the
 * next Tab starts at the top, and it cannot be reached to hear why it waits. Pressed while held,
 * it does nothing but hand its `reason` to `onHeld` (to say it); the reason is its description.
 */
export function HeldButton({
  held,
  reason,
  onHeld,
  onClick,
  class: className,
  buttonRef,
  describedBy,
  notedBy,
  children,
}: {
  held: boolean;
  reason?: string;
  onHeld?: (reason: string) => void;
  onClick: () => void;
  class?: string;
  buttonRef?: Ref<HTMLButtonElement>;
  /** An element on the page that already says why it is held, in place of `reason` as its description. */
  describedBy?: string;
  /** An element on the page that says what the button would do, its description held or not (after why it is held). */
  notedBy?: string;
  children: ComponentChildren;
}) {
  const reasonId = useId();
  const whyHeld = held ? (describedBy ?? (reason ? reasonId : undefined)) : undefined;
  const description = [whyHeld, notedBy].filter((id) => id !== undefined).join(' ') || undefined;
  return (
    <>
      <button
        type="button"
        ref={buttonRef}
        class={className}
        aria-disabled={held ? 'true' : undefined}
        aria-describedby={description}
        onClick={() => {
          if (!held) onClick();
          else if (reason) onHeld?.(reason);
        }}
      >
        {children}
      </button>
      {held && reason && !describedBy && (
        <span id={reasonId} hidden>
          {reason}
        </span>
      )}
    </>
  );
}

/**
 * Calls `arm()` when the user does something that may take away the focused element (Load more
 * that goes once all is loaded, a pager that goes with a single page): at a change of `deps` while
 * `settled` (what was asked for has loaded), a focus that fell to the body moves to `target`, so
 * the next Tab goes on from there rather than from the top. It stays armed while the focus is still
 * on the element it was armed on: another load (a live update) may settle first, before the one
 * that takes the element away. Unarmed, or once the user has moved the focus, it is left alone (a
 * page's first load starts at the top).
 */
export function useFocusRescue(target: RefObject<HTMLElement | null>, settled: boolean, deps: unknown[]): () => void {
  const armedOn = useRef<Element | null | undefined>(undefined);
  useEffect(() => {
    if (armedOn.current === undefined || !settled) return;
    const now = document.activeElement;
    if (!now || now === document.body || !now.isConnected) target.current?.focus();
    else if (now === armedOn.current) return;
    armedOn.current = undefined;
  }, [settled, ...deps]);
  return useCallback(() => {
    armedOn.current = document.activeElement;
  }, []);
}

/** How long a select's choice stepped to with the keyboard rests before it counts. */
const SELECT_SETTLE_MS = 700;
/** Keys that step a closed select's choice (and fire its change at once) in Chromium and Firefox. */
const STEPPING_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown']);

/**
 * A select whose choice counts (`onCommit`) at once when picked from its list (a click, or Enter
 * in the open list), but, stepped to with the arrow keys on the closed select, once it has rested
 * SELECT_SETTLE_MS, or on Enter or leaving the field: each step fires a change, and each reloaded
 * the list (and said its count) for every option passed on the way. What is chosen until then is
 * the field's own, as in CommittedInput; a new committed value (Back, a link) replaces it.
 */
export function CommittedSelect({ value, onCommit, children }: { value: string; onCommit: (value: string) => void; children: ComponentChildren }) {
  const [chosen, setChosen] = useState(value);
  useEffect(() => setChosen(value), [value]);
  // The latest: a choice that rests commits over the filters as they are then, not as when it was stepped to.
  const commit = useRef(onCommit);
  commit.current = onCommit;
  const stepped = useRef(false);
  const timer = useRef<number | undefined>(undefined);
  const pending = useRef<string | null>(null);
  const flush = () => {
    window.clearTimeout(timer.current);
    if (pending.current === null) return;
    const next = pending.current;
    pending.current = null;
    commit.current(next);
  };
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return (
    <select
      value={chosen}
      onKeyDown={(event) => {
        stepped.current = STEPPING_KEYS.has(event.key);
        if (event.key === 'Enter') flush();
      }}
      onChange={(event) => {
        const next = event.currentTarget.value;
        setChosen(next);
        pending.current = next;
        window.clearTimeout(timer.current);
        if (stepped.current) timer.current = window.setTimeout(flush, SELECT_SETTLE_MS);
        else flush();
        stepped.current = false;
      }}
      onBlur={flush}
    >
      {children}
    </select>
  );
}
