import { useRef, useState } from 'preact/hooks';
import { isUnreadableMission, ListedMission, MAX_SCANNED_PER_PAGE, MISSION_STATUSES, MISSION_TYPES, MissionPage, PRIORITY_LEVELS } from '@app/mission/browser';
import { api, query } from '../api';
import { isoFromLocal, localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { Announced, CommittedInput, CommittedSelect, ErrorNote, HeldButton, PageTitle, useLoaded } from '../parts';
import { listAddress, ListView, listViewOf, showListView } from '../route';
import { UnavailableGuestDataNote } from '../unavailable';

const FILTER_FIELDS = ['title', 'status', 'type', 'priority', 'agentId', 'createdFrom', 'createdTo'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

const show = (view: ListView<FilterField>) => showListView('missions', view);

/** The time filters, by their fields' labels. */
const TIME_FILTERS = { createdFrom: 'Created from', createdTo: 'Created before' } as const;

/** Missions a page shows. */
const PAGE_SIZE = 50;
/**
 * How many of the API's pages one page of the console follows on at most (each reads up to
 * MAX_SCANNED_PER_PAGE missions): a search few missions match goes on by itself this far, and a
 * live reload of it reads no more than that; past it, Older searches on.
 */
const FOLLOWED_PAGES = 20;

/**
 * A page as shown: the API's page from the address's cursor, and, while that one stopped short at
 * MAX_SCANNED_PER_PAGE with a `nextCursor`, the pages after it, until PAGE_SIZE missions are
 * found, the log ends, or `allowed()` pages are read. Each stopped short page had said "0 missions
 * on this page" beside Older, as if none matched.
 */
interface SearchedPage extends MissionPage<ListedMission> {
  /** Missions the pages that stopped short read: PAGE_SIZE were not found among them. */
  searched: number;
  /** Stopped short of PAGE_SIZE with more to search (Stop, or FOLLOWED_PAGES read): `nextCursor` searches on. */
  stoppedEarly: boolean;
}

async function searchOn(
  pathFrom: (cursor: string | undefined, limit: number) => string,
  cursor: string | undefined,
  { signal, allowed, progress }: { signal: AbortSignal; allowed: () => number; progress: (read: number) => void },
): Promise<SearchedPage> {
  const items: ListedMission[] = [];
  let searched = 0;
  let from = cursor;
  for (let read = 1; ; read += 1) {
    const page = await api<MissionPage<ListedMission>>('GET', pathFrom(from, PAGE_SIZE - items.length), undefined, { signal });
    items.push(...page.items);
    if (!page.nextCursor || items.length === PAGE_SIZE) return { items, nextCursor: page.nextCursor, searched, stoppedEarly: false };
    searched += MAX_SCANNED_PER_PAGE;
    from = page.nextCursor;
    if (read >= allowed()) return { items, nextCursor: from, searched, stoppedEarly: true };
    progress(read);
  }
}

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
  const pathFrom = (from: string | undefined, limit: number) =>
    `/api/missions${query({
      title: filters.title.trim(),
      status: filters.status,
      type: filters.type,
      priority: filters.priority,
      agentId: filters.agentId.trim(),
      createdFrom: isoFromLocal(filters.createdFrom),
      createdTo: isoFromLocal(filters.createdTo),
      cursor: from,
      limit: String(limit),
    })}`;
  const path = pathFrom(cursor, PAGE_SIZE);
  /**
   * How many of the API's pages this view may read (FOLLOWED_PAGES, or as many as were read when
   * Stop was pressed), and how many the search following on has read: for the view it names.
   */
  const budget = useRef({ path, pages: FOLLOWED_PAGES, read: 0 });
  if (budget.current.path !== path) budget.current = { path, pages: FOLLOWED_PAGES, read: 0 };
  /** The pages read while a search follows on; `path` names its view, as a load a newer one replaced may still say. */
  const [following, setFollowing] = useState<{ path: string; read: number } | null>(null);
  const {
    value: page,
    error,
    reload,
  } = useLoaded(
    async (signal) => {
      const pages = budget.current;
      try {
        return await searchOn(pathFrom, cursor, {
          signal,
          allowed: () => pages.pages,
          progress: (read) => {
            pages.read = read;
            setFollowing({ path, read });
          },
        });
      } finally {
        setFollowing((now) => (now?.path === path ? null : now));
      }
    },
    [path],
  );
  const searching = following?.path === path ? following.read * MAX_SCANNED_PER_PAGE : null;
  // The page in flight is the last: a live reload then reads as far as this search went.
  const stop = () => {
    budget.current.pages = budget.current.read + 1;
  };
  // Any event may add a mission or change one on this page; a burst costs one reload.
  const live = useLiveEvents({}, useThrottled(reload, 500));
  // Other filters show other missions: from the newest again.
  const commit = (field: FilterField, value: string) => show({ filters: { ...filters, [field]: value }, cursors: [] });
  const set = (field: FilterField) => (event: Event) => commit(field, (event.currentTarget as HTMLInputElement | HTMLSelectElement).value);

  const stopped =
    page?.stoppedEarly &&
    (page.items.length === 0
      ? `No match among the ${page.searched.toLocaleString()} missions searched: the search stopped there.`
      : `The search stopped after ${page.searched.toLocaleString()} missions, with ${page.items.length} found.`);
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
      {/* An address's time the field cannot show had been dropped without a word: the list looked filtered by it. */}
      {(Object.keys(TIME_FILTERS) as (keyof typeof TIME_FILTERS)[])
        .filter((field) => filters[field] !== '' && isoFromLocal(filters[field]) === undefined)
        .map((field) => (
          <ErrorNote
            key={field}
            error={
              new Error(
                `${TIME_FILTERS[field]}: the address's ${field}=${filters[field]} is not a date and time (such as 2025-03-01T18:00), so the list is not filtered by it.`,
              )
            }
          />
        ))}
      <ErrorNote error={error} />
      {/* Only before anything is shown: a live reload that follows on again leaves the list in place. */}
      {searching !== null && !page && (
        <p class="searching">
          <span role="status">Searching older missions…</span>
          <span aria-hidden="true"> ({searching.toLocaleString()} scanned)</span>{' '}
          <button type="button" onClick={stop}>
            Stop
          </button>
        </p>
      )}
      {stopped && (
        <p class="searching">
          {stopped}{' '}
          <button type="button" onClick={() => page.nextCursor && show({ filters, cursors: [...cursors, page.nextCursor] })}>
            Search older missions
          </button>
        </p>
      )}
      {/* Nothing loaded yet, or refused, or none found before the search stopped: no table, whose "0 missions" would say there are none. */}
      {page && (page.items.length > 0 || !page.stoppedEarly) && (
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
              {page.items.map((mission) =>
                isUnreadableMission(mission) ? (
                  <tr key={mission.id}>
                    <td class="free-text">
                      <a href={`#/missions/${mission.id}`}>{mission.title}</a>
                      {/* Its stored state cannot be read: nothing of it is known but its id, and the operator's remedy. */}
                      <p class="data-damaged" title={mission.unavailable}>
                        Stored state damaged: cannot be shown. Call an operator (mission <code>{mission.id}</code>).
                      </p>
                    </td>
                    <td>
                      <span class="status">{mission.status}</span>
                    </td>
                    <td>{mission.type}</td>
                    <td>{mission.priority}</td>
                    <td>—</td>
                    <td>—</td>
                    <td>—</td>
                  </tr>
                ) : (
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
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      <Announced text={page?.items.length === 0 && stopped ? stopped : count} />
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
