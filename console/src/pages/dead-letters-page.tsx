import { useEffect, useRef } from 'preact/hooks';
import { BULK_REQUEUE_MAX, DeadLetterEntry, MISSION_TYPES, MissionPage, QueueStats } from '@app/mission/browser';
import { allows, api, Caller, query } from '../api';
import { localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { Announced, CommittedInput, ErrorNote, HeldButton, Outcome, PageTitle, useAction, useFocusRescue, useLoaded } from '../parts';
import { listViewOf, showListView } from '../route';

/** `address`: the address's query, which holds the filters. */
export function DeadLettersPage({ caller, address }: { caller: Caller; address: string }) {
  if (!allows(caller.role, 'operator')) {
    return (
      <section>
        <PageTitle>Dead letters</PageTitle>
        <p>The dead-letter queue needs an operator key; this key is a {caller.role}.</p>
      </section>
    );
  }
  return <DeadLetters address={address} />;
}

/** Dead letters a page of `GET /api/dlq` holds (the API's largest), and so what one Load more adds. */
const PAGE_SIZE = 200;

const FILTER_FIELDS = ['type', 'errorContains'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

/**
 * The first page and one more per cursor, merged, oldest first: always the oldest dead letters, so a
 * bulk requeue, which takes the oldest that match, takes those shown. A page read again from its
 * cursor after a dead letter before it left overlaps the one before: each shows once.
 */
async function loadPages(cursors: string[]): Promise<MissionPage<DeadLetterEntry>> {
  const pages = await Promise.all(
    [undefined, ...cursors].map((cursor) => api<MissionPage<DeadLetterEntry>>('GET', `/api/dlq${query({ cursor, limit: String(PAGE_SIZE) })}`)),
  );
  const seen = new Set<string>();
  const items = pages
    .flatMap((page) => page.items)
    .filter((letter) => {
      if (seen.has(letter.missionId)) return false;
      seen.add(letter.missionId);
      return true;
    });
  return { items, nextCursor: pages[pages.length - 1].nextCursor };
}

function DeadLetters({ address }: { address: string }) {
  // In the address (`#/dead-letters?type=pricing&errorContains=timeout&cursor=…`): Back from a mission, a reload and a shared link keep them.
  const { filters, cursors } = listViewOf(address, FILTER_FIELDS);
  const { type, errorContains } = filters;
  const { value: loaded, error, reload: reloadLetters } = useLoaded(() => loadPages(cursors), []);
  // Load more reads the pages again with one more, and those shown stay until it answers (new deps would drop them at once).
  const pagesAsked = JSON.stringify(cursors);
  const pagesLoaded = useRef(pagesAsked);
  useEffect(() => {
    if (pagesLoaded.current === pagesAsked) return;
    pagesLoaded.current = pagesAsked;
    reloadLetters();
  }, [pagesAsked]);
  const letters = loaded?.items;
  const nextCursor = loaded?.nextCursor;
  // How many there are in all, for the caption while more are not loaded.
  const stats = useLoaded(() => api<QueueStats>('GET', '/api/missions/queue/stats'), []);
  const reload = () => {
    reloadLetters();
    stats.reload();
  };
  const live = useLiveEvents({ type: 'MissionDeadLettered,MissionRequeued,MissionCancelled' }, useThrottled(reload, 300));
  // Filtered here, among those loaded: the pages loaded stay.
  const commit = (field: FilterField, value: string) => showListView('dead-letters', { filters: { ...filters, [field]: value }, cursors });
  // Once the last page is loaded, Load more goes, and the focus on it to the caption, which says how many are.
  const caption = useRef<HTMLTableCaptionElement>(null);
  const rescueFocus = useFocusRescue(caption, letters !== undefined, [letters]);
  const loadMore = () => {
    if (!nextCursor || cursors.includes(nextCursor)) return;
    rescueFocus();
    showListView('dead-letters', { filters, cursors: [...cursors, nextCursor] });
  };
  const { busy, outcome, failure, run, heading } = useAction(reload);
  const matching = (letter: DeadLetterEntry) => (!type || letter.type === type) && (!errorContains || (letter.lastError ?? '').includes(errorContains));
  const shown = (letters ?? []).filter(matching);
  // A bulk requeue looks no further than the BULK_REQUEUE_MAX oldest: past them, the shown it takes are fewer, and its button says so.
  const beyondBulk = (letters?.length ?? 0) > BULK_REQUEUE_MAX;
  const requeuable = beyondBulk ? (letters ?? []).slice(0, BULK_REQUEUE_MAX).filter(matching) : shown;

  const requeueOne = (letter: DeadLetterEntry) =>
    run(async () => {
      await api('POST', `/api/dlq/${letter.missionId}/requeue`);
      return `Requeued “${letter.title}”.`;
    });
  const requeueAll = () => {
    const which = beyondBulk ? `the ${requeuable.length} shown among the ${BULK_REQUEUE_MAX} oldest` : `the ${requeuable.length} shown`;
    if (!window.confirm(`Requeue ${which}? Each starts over with MAX_ATTEMPTS more attempts.`)) return;
    void run(async () => {
      // Those and no others: the server filters the same oldest-first list, and the pages loaded
      // are its oldest, so the first `requeuable.length` it matches are these (more may be
      // dead-lettered than the page loads).
      const body = {
        ...(type ? { type } : {}),
        ...(errorContains ? { errorContains } : {}),
        limit: requeuable.length,
        deadLetteredBefore: new Date(Date.parse(requeuable[requeuable.length - 1].deadLetteredAt) + 1).toISOString(),
        reason: 'requeued in the console',
      };
      const { requeued, skipped = [] } = await api<{ requeued: string[]; skipped?: { missionId: string }[] }>('POST', '/api/dlq/requeue', body);
      return skipped.length > 0
        ? `Requeued ${requeued.length} missions; ${skipped.length} not requeued (left the dead letters meanwhile, or guest data damaged).`
        : `Requeued ${requeued.length} missions.`;
    });
  };

  const count =
    letters &&
    `${shown.length} dead-lettered ${shown.length === 1 ? 'mission' : 'missions'}, oldest first${
      nextCursor
        ? ` (the ${letters.length} oldest${(stats.value?.deadLettered ?? 0) > letters.length ? ` of ${stats.value?.deadLettered}` : ''} are loaded: Load more shows the next ${PAGE_SIZE})`
        : cursors.length > 0
          ? ` (all ${letters.length} are loaded)`
          : ''
    }`;

  return (
    <section aria-labelledby="dlq-title">
      <PageTitle live={live} headingRef={heading}>
        <span id="dlq-title">Dead letters</span>
      </PageTitle>
      <form class="filters" aria-label="Filter dead letters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Type
          <select value={type} onChange={(event) => commit('type', event.currentTarget.value)}>
            <option value="">any</option>
            {MISSION_TYPES.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Last error contains
          {/* Filtered, and the address written, when the field is committed (Enter or leaving it), not on every key. */}
          <CommittedInput value={errorContains} onCommit={(value) => commit('errorContains', value)} />
        </label>
        {/* Nor "(0)", before the dead letters are loaded. */}
        {letters && (
          <button type="button" disabled={busy || requeuable.length === 0} onClick={requeueAll}>
            {beyondBulk ? `Requeue filtered among the ${BULK_REQUEUE_MAX} oldest (${requeuable.length})` : `Requeue all filtered (${requeuable.length})`}
          </button>
        )}
      </form>
      <Outcome text={outcome} />
      <ErrorNote error={error ?? failure} />
      {/* Nothing loaded yet, or refused: no table, whose "0 dead-lettered missions" would say there are none. */}
      {letters && (
        <div class="table-wrap">
          <table>
            <caption ref={caption} tabIndex={-1}>
              {count}
            </caption>
            <thead>
              <tr>
                <th scope="col">Mission</th>
                <th scope="col">Type</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Dead-lettered</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((letter) => (
                <tr key={letter.missionId}>
                  <td class="free-text">
                    <a href={`#/missions/${letter.missionId}`} dir="auto">
                      {letter.title}
                    </a>
                  </td>
                  <td>{letter.type}</td>
                  <td>{letter.reason}</td>
                  <td>{letter.attempts}</td>
                  <td>{letter.lastError ?? '—'}</td>
                  <td>{localTime(letter.deadLetteredAt)}</td>
                  <td>
                    <button type="button" aria-label={`Requeue ${letter.title}`} disabled={busy} onClick={() => void requeueOne(letter)}>
                      Requeue
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Announced text={count} />
      {nextCursor && (
        <div class="pager">
          {/* Held from the click until the page it asked for is loaded, so a double click adds one page; held, not disabled, so the focus stays on it. */}
          <HeldButton held={cursors.includes(nextCursor)} onClick={loadMore}>
            Load more
          </HeldButton>
        </div>
      )}
    </section>
  );
}
