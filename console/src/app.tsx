import { useEffect, useRef, useState } from 'preact/hooks';
import { MISSION_ID_PATTERN } from '@app/mission/browser';
import { allows, api, ApiFailure, Caller, forgetKey, KEY_REJECTED, Role, storedKey, storeKey, UNREACHABLE } from './api';
import { reconnectDelay } from './live';
import { AgentsPage } from './pages/agents-page';
import { DeadLettersPage } from './pages/dead-letters-page';
import { MissionPage } from './pages/mission-page';
import { missionsListAddress, MissionsPage } from './pages/missions-page';
import { QueuePage } from './pages/queue-page';
import { ReviewPage } from './pages/review-page';
import { ErrorNote, PageTitle, useDocumentTitle, useEverySecond } from './parts';
import { clearRoute, useRoute } from './route';

const PAGES: readonly { path: string; name: string; role?: Role }[] = [
  { path: 'queue', name: 'Queue' },
  { path: 'missions', name: 'Missions' },
  { path: 'review', name: 'Review' },
  // GET /api/dlq is an operator's: another key's link would lead to a page saying it cannot be used.
  { path: 'dead-letters', name: 'Dead letters', role: 'operator' },
  { path: 'agents', name: 'Agents' },
];

const MISSION_ID = new RegExp(MISSION_ID_PATTERN);

export function App() {
  const [caller, setCaller] = useState<Caller | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);
  /** Why the sign-in form is back: the key was refused, or could not be checked. */
  const [notice, setNotice] = useState<string | null>(null);
  /** Signed out here: the sign-in form takes the focus, which was on Sign out, gone with the page. */
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    const rejected = () => {
      setCaller(null);
      setNotice('The API no longer accepts this key: sign in with a current one.');
    };
    window.addEventListener(KEY_REJECTED, rejected);
    return () => window.removeEventListener(KEY_REJECTED, rejected);
  }, []);

  if (checking) {
    return (
      <KeyCheck
        onChecked={(checked) => {
          setCaller(checked);
          setChecking(false);
        }}
        onSignIn={(why) => {
          if (why !== null) setNotice(why);
          setChecking(false);
        }}
      />
    );
  }
  if (!caller) return <SignIn notice={notice} focusKey={signedOut} onSignedIn={setCaller} />;
  return (
    <Shell
      caller={caller}
      onSignOut={() => {
        forgetKey();
        // The address kept the page signed out of, which the next key would open unasked.
        clearRoute();
        setSignedOut(true);
        setCaller(null);
      }}
    />
  );
}

/**
 * Checks the key the tab kept (GET /api/me) on a load of the console. Only a refusal sends to
 * sign-in: a 401 (api() forgets the key and says why, KEY_REJECTED) or a 403 (a client key). Any
 * other failure (no answer, a gateway's 502 or 504, Redis down's 503, a 429's wait) keeps the key,
 * says so, and asks again by itself, after 1 s, then 2, 4, … up to 30 s, or once a Retry-After has
 * passed: a reload during a Redis outage had left the console on the sign-in form for good, the
 * key still in the tab, once the system was back. `onSignIn`'s `why`: the notice to show there, if
 * any. The user may give up the key meanwhile and sign in with another.
 */
function KeyCheck({ onChecked, onSignIn }: { onChecked: (caller: Caller) => void; onSignIn: (why: string | null) => void }) {
  const [waiting, setWaiting] = useState<{ failure: unknown; retryAt: number } | null>(null);
  useEverySecond(waiting !== null);
  useDocumentTitle(waiting ? 'System unreachable' : 'Checking the key');
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let failures = 0;
    const check = () =>
      void api<Caller>('GET', '/api/me').then(
        (caller) => {
          if (!stopped) onChecked(caller);
        },
        (failure: unknown) => {
          if (stopped) return;
          if (failure instanceof ApiFailure && (failure.status === 401 || failure.status === 403)) {
            if (failure.status === 403) forgetKey();
            onSignIn(failure.status === 403 ? signInRefusal(failure) : null);
            return;
          }
          const wait = Math.max(reconnectDelay(++failures), failure instanceof ApiFailure ? (failure.retryAfterMs ?? 0) : 0);
          setWaiting({ failure, retryAt: Date.now() + wait });
          timer = window.setTimeout(check, wait);
        },
      );
    check();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, []);
  if (!waiting) return <p class="centered">Checking the key…</p>;
  const down = waiting.failure instanceof ApiFailure && [UNREACHABLE, 502, 503, 504].includes(waiting.failure.status);
  const left = Math.ceil((waiting.retryAt - Date.now()) / 1000);
  return (
    <main class="centered">
      <h1>BRAIN console</h1>
      {/* The count is hidden from screen readers, which would read the status out again every second. */}
      <p role="status">
        {down ? 'System unreachable' : 'The key cannot be checked yet'}, retrying
        <span aria-hidden="true">{left > 0 ? ` in ${left} s` : ''}</span>…
      </p>
      <p class="hint">{String((waiting.failure as Error).message)}</p>
      <p class="hint">The key is kept for this tab and checked again by itself.</p>
      <button
        type="button"
        class="link"
        onClick={() => {
          forgetKey();
          onSignIn(null);
        }}
      >
        Sign in with another key
      </button>
    </main>
  );
}

/**
 * Why a key could not sign in, for the person holding it: the API's own words, but a client key
 * (an external system's, which may only use its own missions' routes, and gets /api/me's 403) is
 * told that the console is for staff keys rather than what role a route needs.
 */
function signInRefusal(failure: unknown): string {
  if (failure instanceof ApiFailure && failure.status === 401) return 'That key is not valid.';
  if (failure instanceof ApiFailure && failure.status === 403)
    return 'That key is a client key, for an external system: the console needs a staff key (reader, submitter, reviewer or operator).';
  return `Cannot sign in: ${String((failure as Error).message)}`;
}

function SignIn({ notice, focusKey, onSignedIn }: { notice: string | null; focusKey: boolean; onSignedIn: (caller: Caller) => void }) {
  const [key, setKey] = useState('');
  const keyField = useRef<HTMLInputElement>(null);
  // Focused after Sign out, not on a first load, where the focus starts at the top.
  useEffect(() => {
    if (focusKey) keyField.current?.focus();
  }, []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle('Sign in');
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const caller = await api<Caller>('GET', '/api/me', undefined, { key: key.trim() });
      storeKey(key.trim());
      onSignedIn(caller);
    } catch (failure) {
      setError(signInRefusal(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>BRAIN console</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          ref={keyField}
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p class="hint">Kept in this tab only (session storage) until you sign out or close it.</p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {(error ?? notice) && (
          <p role="alert" class="error">
            {error ?? notice}
          </p>
        )}
      </form>
    </main>
  );
}

function Shell({ caller, onSignOut }: { caller: Caller; onSignOut: () => void }) {
  const route = useRoute();
  const [page = 'queue', id] = route.path;
  const main = useRef<HTMLElement>(null);
  const known = PAGES.find((entry) => entry.path === page);
  // A mission's page names the tab after the mission itself: every one said "Mission".
  useDocumentTitle(!known ? 'No such page' : page === 'missions' && id ? null : known.name);
  const opened = useRef(false);
  // Another page opened: the focus goes to its heading, so a screen reader says where it is and
  // the next Tab starts there. Not on the first page, where the focus starts at the top.
  useEffect(() => {
    if (!opened.current) {
      opened.current = true;
      return;
    }
    (main.current?.querySelector('h1') ?? main.current)?.focus();
  }, [page, id]);
  // The hash is the route: followed, `#main` would open "No such page." instead of the content.
  const skipToContent = (event: Event) => {
    event.preventDefault();
    main.current?.focus();
  };
  return (
    <>
      <a class="skip" href="#main" onClick={skipToContent}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">BRAIN console</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.filter((entry) => !entry.role || allows(caller.role, entry.role)).map((entry) => (
              <li key={entry.path}>
                <a href={`#/${entry.path}`} aria-current={page === entry.path ? 'page' : undefined}>
                  {entry.name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {caller.name} ({caller.role})
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page === 'queue' && <QueuePage />}
        {page === 'missions' && !id && <MissionsPage address={route.query} />}
        {page === 'missions' && id && <MissionRoute id={id} caller={caller} />}
        {page === 'review' && <ReviewPage caller={caller} address={route.query} />}
        {page === 'dead-letters' && <DeadLettersPage caller={caller} address={route.query} />}
        {page === 'agents' && <AgentsPage caller={caller} />}
        {!known && <p>No such page.</p>}
      </main>
    </>
  );
}

/**
 * A mission's page, for an id the API takes: in lowercase, as a link with an uppercase UUID (a
 * ticket, a mail client) gives it, which was a 400. Anything else is no mission id, said as such
 * without asking: the page had shown the API's 400 and asked for live-stream tokens for ever, each
 * stream refused again.
 */
function MissionRoute({ id, caller }: { id: string; caller: Caller }) {
  const missionId = id.toLowerCase();
  if (MISSION_ID.test(missionId)) return <MissionPage key={missionId} id={missionId} caller={caller} />;
  return <NotAMission id={id} />;
}

function NotAMission({ id }: { id: string }) {
  useDocumentTitle('No such mission');
  return (
    <section>
      <p>
        <a href={missionsListAddress()}>← Missions</a>
      </p>
      <PageTitle>Mission</PageTitle>
      <ErrorNote error={new Error(`"${id}" is not a mission id: a mission's address ends with its id, a UUID such as 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e.`)} />
    </section>
  );
}
