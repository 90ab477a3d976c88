import { useEffect, useState } from 'preact/hooks';

/**
 * Where the console is, in the address's hash: the page (`#/missions/<id>`) and what it shows of
 * it (`#/missions?status=dead_lettered`), so every page and view has a link and Back and Forward work.
 */
export interface Route {
  path: string[];
  /** After the `?`, for URLSearchParams; '' without one. */
  query: string;
}

/** Dispatched on window when the console changes the address in place: history.replaceState fires no hashchange. */
const REPLACED = 'brain:route-replaced';

function read(): Route {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  return { path: path.split('/').filter(Boolean), query: at < 0 ? '' : hash.slice(at + 1) };
}

const sameRoute = (a: Route, b: Route) => a.query === b.query && a.path.join('/') === b.path.join('/');

export function useRoute(): Route {
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    window.addEventListener(REPLACED, changed);
    // One that came between the first render and now (effects run after the browser paints): its
    // hashchange had no listener yet, and the page it names never showed (a link followed just
    // after sign-in left the first page up, under the link's address).
    if (!sameRoute(route, read())) changed();
    return () => {
      window.removeEventListener('hashchange', changed);
      window.removeEventListener(REPLACED, changed);
    };
  }, []);
  return route;
}

/**
 * Puts `hash` in the address in place of the current one: no history entry of its own, so Back
 * leaves the page rather than undoing a filter. The page shows it at once, before the next key or
 * click could act on what it showed before (a hashchange would come a task later).
 */
function replaceRoute(hash: string): void {
  history.replaceState(history.state, '', hash);
  window.dispatchEvent(new Event(REPLACED));
}

/** Takes the page out of the address (the console's bare URL): signed out, no page is shown, and the next key starts at the first page. */
export function clearRoute(): void {
  replaceRoute(window.location.pathname + window.location.search);
}

/**
 * What a list page shows, kept in its address's query (`#/missions?status=dead_lettered&cursor=…`): Back
 * from a page it links to, Forward, a reload and a shared link show the same filters and page.
 */
export interface ListView<Field extends string> {
  /** By field; '' is unset, and left out of the address. */
  filters: Record<Field, string>;
  /** The pages turned: each older page's cursor, in order (a repeated `cursor`). */
  cursors: string[];
}

/** The view `query` (the address's, after the `?`) holds of a list filtered by `fields`. */
export function listViewOf<Field extends string>(query: string, fields: readonly Field[]): ListView<Field> {
  const params = new URLSearchParams(query);
  const filters = Object.fromEntries(fields.map((field) => [field, params.get(field) ?? ''])) as Record<Field, string>;
  return { filters, cursors: params.getAll('cursor') };
}

/** The address of list page `path` (`missions`) showing `view`. */
export function listAddress<Field extends string>(path: string, { filters, cursors }: ListView<Field>): string {
  const params = new URLSearchParams();
  for (const [field, value] of Object.entries<string>(filters)) if (value) params.set(field, value);
  for (const cursor of cursors) params.append('cursor', cursor);
  const text = params.toString();
  return text ? `#/${path}?${text}` : `#/${path}`;
}

/** Shows `view` on list page `path`: the address, in place of the one before, says it, and the page follows. */
export function showListView<Field extends string>(path: string, view: ListView<Field>): void {
  replaceRoute(listAddress(path, view));
}
