import { MISSION_TYPES } from '@app/mission/browser';
import { allows, api, Caller, DeadLetter, Page, QueueStats } from '../api';
import { localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { CommittedInput, ErrorNote, Outcome, PageTitle, useAction, useLoaded } from '../parts';
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

/** Dead letters the page loads: the oldest this many (the API's page limit). */
const LOADED = 200;

const FILTER_FIELDS = ['type', 'errorContains'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

function DeadLetters({ address }: { address: string }) {
  // The first page of the cursor paging: the oldest LOADED, which "Requeue all filtered" relies on (the server requeues oldest first).
  const { value: firstPage, error, reload: reloadLetters } = useLoaded(() => api<Page<DeadLetter>>('GET', `/api/dlq?limit=${LOADED}`), []);
  const letters = firstPage?.items;
  // How many there are in all: more than the page loads are not shown, and the caption says so.
  const stats = useLoaded(() => api<QueueStats>('GET', '/api/missions/queue/stats'), []);
  const reload = () => {
    reloadLetters();
    stats.reload();
  };
  const live = useLiveEvents({ type: 'MissionDeadLettered,MissionRequeued,MissionCancelled' }, useThrottled(reload, 300));
  // In the address (`#/dead-letters?type=pricing&errorContains=timeout`): Back from a mission, a reload and a shared link keep them.
  const { filters } = listViewOf(address, FILTER_FIELDS);
  const { type, errorContains } = filters;
  // One page, filtered here: no pages turned to keep.
  const commit = (field: FilterField, value: string) => showListView('dead-letters', { filters: { ...filters, [field]: value }, cursors: [] });
  const { busy, outcome, failure, run, heading } = useAction(reload);
  const shown = (letters ?? []).filter((letter) => (!type || letter.type === type) && (!errorContains || (letter.lastError ?? '').includes(errorContains)));

  const requeueOne = (letter: DeadLetter) =>
    run(async () => {
      await api('POST', `/api/dlq/${letter.missionId}/requeue`);
      return `Requeued “${letter.title}”.`;
    });
  const requeueAll = () => {
    if (!window.confirm(`Requeue ${shown.length} missions? Each starts over with MAX_ATTEMPTS more attempts.`)) return;
    void run(async () => {
      // The dead letters shown and no others: the server filters the same oldest-first list, so the
      // first `shown.length` it matches are these (more may be dead-lettered than the page loads).
      const body = {
        ...(type ? { type } : {}),
        ...(errorContains ? { errorContains } : {}),
        limit: shown.length,
        deadLetteredBefore: new Date(Date.parse(shown[shown.length - 1].deadLetteredAt) + 1).toISOString(),
        reason: 'requeued in the console',
      };
      const { requeued, skipped = [] } = await api<{ requeued: string[]; skipped?: { missionId: string }[] }>('POST', '/api/dlq/requeue', body);
      return skipped.length > 0
        ? `Requeued ${requeued.length} missions; ${skipped.length} had left the dead letters meanwhile.`
        : `Requeued ${requeued.length} missions.`;
    });
  };

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
          <button type="button" disabled={busy || shown.length === 0} onClick={requeueAll}>
            Requeue all filtered ({shown.length})
          </button>
        )}
      </form>
      <Outcome text={outcome} />
      <ErrorNote error={error ?? failure} />
      {/* Nothing loaded yet, or refused: no table, whose "0 dead-lettered missions" would say there are none. */}
      {letters && (
        <div class="table-wrap">
          <table>
            <caption>
              {shown.length} dead-lettered missions, oldest first
              {letters.length >= LOADED && (stats.value?.deadLettered ?? 0) > LOADED
                ? ` (the ${LOADED} oldest of ${stats.value?.deadLettered} are loaded: requeue or cancel these to see the newer ones)`
                : ''}
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
                    <a href={`#/missions/${letter.missionId}`}>{letter.title}</a>
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
    </section>
  );
}
