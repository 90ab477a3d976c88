import { Mission, MISSION_STATUSES, MISSION_TYPES, MissionPage, PRIORITY_LEVELS } from '@app/mission/browser';
import { api, query } from '../api';
import { isoFromLocal, localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { Announced, CommittedInput, CommittedSelect, ErrorNote, HeldButton, PageTitle, useLoaded } from '../parts';
import { listAddress, ListView, listViewOf, showListView } from '../route';
import { UnavailableGuestDataNote } from '../unavailable';

const FILTER_FIELDS = ['title', 'status', 'type', 'priority', 'agentId', 'createdFrom', 'createdTo'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

const show = (view: ListView<FilterField>) => showListView('missions', view);

/** The list as the Missions page last showed it, for a mission's link back to it. */
let lastShown = '#/missions';

/** Where "← Missions" goes: the list with the filters and page it was last shown with. */
export function missionsListAddress(): string {
  return lastShown;
}

/** `address`: the address's query, which holds the view. */
export function MissionsPage({ address }: { address: string }) {
  const view = listViewOf(address, FILTER_FIELDS);
  lastShown = listAddress('missions', view);
  const { filters, cursors } = view;
  const cursor = cursors.at(-1);
  const path = `/api/missions${query({
    title: filters.title.trim(),
    status: filters.status,
    type: filters.type,
    priority: filters.priority,
    agentId: filters.agentId.trim(),
    createdFrom: isoFromLocal(filters.createdFrom),
    createdTo: isoFromLocal(filters.createdTo),
    cursor,
    limit: '50',
  })}`;
  const { value: page, error, reload } = useLoaded((signal) => api<MissionPage<Mission>>('GET', path, undefined, { signal }), [path]);
  // Any event may add a mission or change one on this page; a burst costs one reload.
  const live = useLiveEvents({}, useThrottled(reload, 500));
  // Other filters show other missions: from the newest again.
  const commit = (field: FilterField, value: string) => show({ filters: { ...filters, [field]: value }, cursors: [] });
  const set = (field: FilterField) => (event: Event) => commit(field, (event.currentTarget as HTMLInputElement | HTMLSelectElement).value);

  const count = page && `${page.items.length} missions on this page, newest first`;

  return (
    <section aria-labelledby="missions-title">
      <PageTitle live={live}>
        <span id="missions-title">Missions</span>
      </PageTitle>
      <form class="filters" role="search" aria-label="Filter missions" onSubmit={(event) => event.preventDefault()}>
        <label>
          Search by title
          {/* Searched when the field is committed (Enter or leaving it), not on every key. */}
          <CommittedInput value={filters.title} onCommit={(value) => commit('title', value)} />
        </label>
        {/* A choice stepped to with the arrow keys counts once it rests, not per option passed. */}
        <label>
          Status
          <CommittedSelect value={filters.status} onCommit={(value) => commit('status', value)}>
            <option value="">any</option>
            {MISSION_STATUSES.filter((status) => status !== 'created').map((status) => (
              <option key={status}>{status}</option>
            ))}
          </CommittedSelect>
        </label>
        <label>
          Type
          <CommittedSelect value={filters.type} onCommit={(value) => commit('type', value)}>
            <option value="">any</option>
            {MISSION_TYPES.map((type) => (
              <option key={type}>{type}</option>
            ))}
          </CommittedSelect>
        </label>
        <label>
          Priority
          <CommittedSelect value={filters.priority} onCommit={(value) => commit('priority', value)}>
            <option value="">any</option>
            {PRIORITY_LEVELS.map((level) => (
              <option key={level}>{level}</option>
            ))}
          </CommittedSelect>
        </label>
        <label>
          Agent
          <CommittedInput value={filters.agentId} onCommit={(value) => commit('agentId', value)} placeholder="agent-lena" />
        </label>
        <label>
          Created from
          <input type="datetime-local" value={filters.createdFrom} onChange={set('createdFrom')} />
        </label>
        <label>
          Created before
          <input type="datetime-local" value={filters.createdTo} onChange={set('createdTo')} />
        </label>
      </form>
      <ErrorNote error={error} />
      {/* Nothing loaded yet, or refused: no table, whose "0 missions" would say there are none. */}
      {page && (
        <div class="table-wrap">
          <table>
            <caption>{count}</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Status</th>
                <th scope="col">Type</th>
                <th scope="col">Priority</th>
                <th scope="col">Agent</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((mission) => (
                <tr key={mission.id}>
                  <td class="free-text">
                    <a href={`#/missions/${mission.id}`} dir="auto">
                      {mission.title}
                    </a>
                    <UnavailableGuestDataNote missionId={mission.id} listed={mission} compact />
                  </td>
                  <td>
                    <span class={`status status-${mission.status}`}>{mission.status}</span>
                  </td>
                  <td>{mission.type}</td>
                  <td>{mission.priority}</td>
                  <td>{mission.assignedAgentId ?? '—'}</td>
                  <td>{mission.attempts}</td>
                  <td>{localTime(mission.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Announced text={count} />
      {/* Held, not disabled, while the page they asked for loads: the focus stays on them. */}
      <div class="pager">
        <HeldButton held={cursors.length === 0} onClick={() => show({ filters, cursors: cursors.slice(0, -1) })}>
          Newer
        </HeldButton>
        <HeldButton held={!page?.nextCursor} onClick={() => page?.nextCursor && show({ filters, cursors: [...cursors, page.nextCursor] })}>
          Older
        </HeldButton>
      </div>
    </section>
  );
}
