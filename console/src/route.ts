import { useEffect, useState } from 'preact/hooks';

/**
 * Where the console is, in the address's hash: the page (`#/missions/<id>`) and what it shows of
 * it (`#/missions?status=failed`), so every page and view has a link and Back and Forward work.
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

export function useRoute(): Route {
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    window.addEventListener(REPLACED, changed);
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
export function replaceRoute(hash: string): void {
  history.replaceState(history.state, '', hash);
  window.dispatchEvent(new Event(REPLACED));
}
