import { useEffect, useState } from 'preact/hooks';
import { missionOfUnavailableNotice, ShownMission } from '@app/mission/browser';

/** Where the missions the live stream named unreadable are kept: the tab's session, so a reload still shows them. */
const STORAGE_KEY = 'brain.unavailableGuestData';

/** Mission id → the intake's message about it (its `unavailable` event's). */
type Unavailable = Record<string, string>;

const listeners = new Set<(unavailable: Unavailable) => void>();
let known: Unavailable = readStored();

function readStored(): Unavailable {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '{}');
    return typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Unavailable) : {};
  } catch {
    return {};
  }
}

/**
 * Takes the `data` of a live stream's `unavailable` event (the API's error body): when it names a
 * mission (its guest data altered where it is stored), every page that shows that mission says so
 * from now on. One that names none (a master key the intake lacks) is every mission's, and left to
 * the API's own errors.
 */
export function noteUnavailable(data: string): void {
  let message: unknown;
  try {
    message = (JSON.parse(data) as { message?: unknown }).message;
  } catch {
    return;
  }
  if (typeof message !== 'string') return;
  const missionId = missionOfUnavailableNotice(message);
  if (missionId === undefined || known[missionId] === message) return;
  known = { ...known, [missionId]: message };
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(known));
  } catch {
    // Storage full or refused: the tab still shows it until it is reloaded.
  }
  for (const listener of listeners) listener(known);
}

/** The intake's message about the mission's guest data, if the live stream said it cannot be opened. */
export function useUnavailableGuestData(missionId: string): string | undefined {
  const [unavailable, setUnavailable] = useState(known);
  useEffect(() => {
    listeners.add(setUnavailable);
    // One that came between the first render and now.
    setUnavailable(known);
    return () => void listeners.delete(setUnavailable);
  }, []);
  return unavailable[missionId];
}

/**
 * The intake's message about the mission's guest data when it failed its integrity check: as the
 * live stream said, or as the API answered the mission (`listed`, in a list or alone: its
 * `unavailable`, its personal fields UNAVAILABLE_MARKER). Undefined while neither said so.
 */
function useDamagedGuestData(missionId: string, listed?: ShownMission): string | undefined {
  return useUnavailableGuestData(missionId) ?? listed?.unavailable;
}

/**
 * Says, where staff look at a mission, that its guest data failed its integrity check and cannot
 * be shown, and that an operator is needed, with the mission id to give them (useDamagedGuestData).
 * `compact`: one line, for a row of a list; else the page's alert, with the intake's message for the operator.
 */
export function UnavailableGuestDataNote({ missionId, listed, compact = false }: { missionId: string; listed?: ShownMission; compact?: boolean }) {
  const message = useDamagedGuestData(missionId, listed);
  if (message === undefined) return null;
  if (compact) {
    return (
      <p class="data-damaged">
        Guest data damaged: cannot be shown. Call an operator (mission <code>{missionId}</code>).
      </p>
    );
  }
  return (
    <div role="alert" class="error data-damaged">
      <p>
        <strong>This mission's guest data cannot be shown.</strong> It failed its integrity check: it was changed or damaged where it is stored, so the guest's
        details here cannot be trusted. Do not act on them; call an operator and give them the mission id <code>{missionId}</code>.
      </p>
      <p class="hint">For the operator: {message}</p>
    </div>
  );
}
